import Foundation
import GGUF
import TestSupport
import Text
import XCTest

/// Chat templates recognised from their Jinja text render conversations exactly as transformers'
/// `apply_chat_template` does (goldens: Fixtures/chat_templates.json, made by
/// scripts/goldens/make_chat_template_goldens.py), and say where the assistant parts are.
final class ChatTemplateTests: XCTestCase {
    struct Golden {
        var templates: [String: (family: String, text: String, bos: String, eos: String)] = [:]
        var cases: [(template: String, messages: [ChatMessage], generation: Bool, text: String)] = []
    }

    private func golden() throws -> Golden {
        let data = try Data(contentsOf: TestPaths.fixture("TextTests", "chat_templates.json"))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var golden = Golden()
        for (name, value) in try XCTUnwrap(root["templates"] as? [String: [String: Any]]) {
            golden.templates[name] = (value["family"] as! String, value["template"] as! String,
                                      value["bos_token"] as? String ?? "", value["eos_token"] as! String)
        }
        for item in try XCTUnwrap(root["cases"] as? [[String: Any]]) {
            let messages = (item["messages"] as! [[String]]).map {
                ChatMessage(ChatMessage.Role(rawValue: $0[0])!, $0[1])
            }
            golden.cases.append((item["template"] as! String, messages, item["add_generation_prompt"] as! Bool,
                                 item["text"] as! String))
        }
        return golden
    }

    private func template(_ golden: Golden, _ name: String) throws -> ChatTemplate {
        let t = try XCTUnwrap(golden.templates[name])
        return try ChatTemplate(recognizing: t.text, bosToken: t.bos, eosToken: t.eos)
    }

    func testEachTemplateIsRecognisedAsItsFamily() throws {
        let golden = try golden()
        XCTAssertEqual(Set(golden.templates.keys), ["smollm2", "qwen2.5", "llama3", "llama2", "mistral", "alpaca"])
        for (name, t) in golden.templates {
            XCTAssertEqual(try template(golden, name).family.rawValue, t.family, name)
        }
        XCTAssertEqual(try template(golden, "smollm2").defaultSystemPrompt,
                       "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        XCTAssertEqual(try template(golden, "qwen2.5").defaultSystemPrompt,
                       "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
    }

    func testRenderingMatchesTransformersApplyChatTemplate() throws {
        let golden = try golden()
        XCTAssertGreaterThan(golden.cases.count, 60)
        for item in golden.cases {
            let rendered = try template(golden, item.template).render(item.messages, addGenerationPrompt: item.generation)
            XCTAssertEqual(rendered.text, item.text, "\(item.template) \(item.messages) generation \(item.generation)")
        }
    }

    /// Each assistant turn gives one span: its reply (as the template writes it) and the end-of-turn marker.
    func testAssistantSpansCoverEachReplyAndItsEndOfTurn() throws {
        let golden = try golden()
        for item in golden.cases {
            let t = try template(golden, item.template)
            let rendered = try t.render(item.messages, addGenerationPrompt: item.generation)
            let replies = item.messages.filter { $0.role == .assistant }.map(\.content)
            let expected: [String] = replies.map { reply in
                switch t.family {
                case .chatML: return reply + "<|im_end|>"
                case .llama3: return reply.trimmingCharacters(in: .whitespacesAndNewlines) + "<|eot_id|>"
                case .llama2: return " " + reply.trimmingCharacters(in: .whitespacesAndNewlines) + " " + t.eosToken
                case .mistral, .alpaca: return reply + t.eosToken
                }
            }
            XCTAssertEqual(rendered.assistantTexts, expected, "\(item.template) \(item.messages)")
        }
    }

    func testPromptResponsePairAndGenerationPrompt() throws {
        let chatML = try XCTUnwrap(ChatTemplate.named("chatml"))
        let pair = try chatML.render(prompt: "Hi", response: "Hello!", system: "Be kind.")
        XCTAssertEqual(pair.text, "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            + "<|im_start|>assistant\nHello!<|im_end|>\n")
        XCTAssertEqual(pair.assistantTexts, ["Hello!<|im_end|>"])
        XCTAssertEqual(try chatML.renderPrompt("Hi"), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        let llama2 = try XCTUnwrap(ChatTemplate.named("llama2"))
        XCTAssertEqual(try llama2.renderPrompt("Hi", system: "S"), "<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nHi [/INST]")
        for family in ChatTemplate.Family.allCases {
            XCTAssertEqual(ChatTemplate.named(family.rawValue)?.family, family)
        }
        XCTAssertNil(ChatTemplate.named("jinja"))
    }

    /// The mask marks exactly the tokens of the assistant spans; ids are those of the whole text.
    func testTokenMaskFollowsTheAssistantSpans() throws {
        let tokenizer = try BPETokenizer(ggufFile: TestPaths.fixture("TextTests", "gguf/tiny_tokenizer.gguf"))
        let file = try GGUFFile(contentsOf: TestPaths.fixture("TextTests", "gguf/tiny_tokenizer.gguf"))
        let template = try XCTUnwrap(try ChatTemplate.fromGGUF(file))
        XCTAssertEqual(template.family, .chatML)
        XCTAssertNil(template.defaultSystemPrompt)
        let rendered = try template.render([ChatMessage(.user, "aaaa bb"), ChatMessage(.assistant, "ab ba"),
                                            ChatMessage(.user, "b"), ChatMessage(.assistant, "aaaaaaaa")],
                                           addGenerationPrompt: false)
        let (ids, mask) = template.tokenize(rendered, with: tokenizer)
        XCTAssertEqual(ids, tokenizer.encode(rendered.text))
        let masked = zip(ids, mask).filter(\.1).map(\.0)
        XCTAssertEqual(tokenizer.decode(masked), "ab ba<|im_end|>aaaaaaaa<|im_end|>")
        XCTAssertTrue(mask.contains(false))
    }

    /// A token that straddles a span's edge counts as assistant: a Mistral reply starting with "." follows
    /// "[/INST]" directly, and SmolLM2's vocabulary has the token "].".
    func testStraddlingTokensCountAsAssistant() throws {
        let tokenizer = try BPETokenizer(ggufFile: try SmolLM2File.url())
        let template = ChatTemplate(family: .mistral, bosToken: "", eosToken: "<|im_end|>")
        let rendered = try template.render(prompt: "Hi", response: ". Yes", system: nil)
        XCTAssertEqual(rendered.text, "[INST] Hi [/INST]. Yes<|im_end|>")
        let (ids, mask) = template.tokenize(rendered, with: tokenizer)
        XCTAssertTrue(ids.contains(try XCTUnwrap(tokenizer.tokenId(for: "]."))))
        XCTAssertEqual(tokenizer.decode(zip(ids, mask).filter(\.1).map(\.0)), "]. Yes<|im_end|>")
        XCTAssertEqual(tokenizer.decode(zip(ids, mask).filter { !$0.1 }.map(\.0)), "[INST] Hi [/INST")
    }

    func testSmolLM2TemplateFromItsGGUF() throws {
        let file = try GGUFFile(contentsOf: try SmolLM2File.url())
        let template = try XCTUnwrap(try ChatTemplate.fromGGUF(file))
        XCTAssertEqual(template.family, .chatML)
        XCTAssertEqual(template.eosToken, "<|im_end|>")
        XCTAssertEqual(try template.renderPrompt("What is the capital of France?"),
                       "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
                       + "<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
                       + "<|im_start|>assistant\n")
    }

    func testUnknownTemplatesAndRejectedConversationsAreClearErrors() throws {
        XCTAssertThrowsError(try ChatTemplate(recognizing: "{{ messages[0]['content'] }}", bosToken: "", eosToken: "")) {
            let text = "\($0)"
            XCTAssertTrue(text.contains("is not one xright recognises"), text)
            XCTAssertTrue(text.contains("--template"), text)
            XCTAssertTrue(text.contains("it begins \"{{ messages[0]['content'] }}\""), text)
        }
        let llama31 = "{{- bos_token }}{%- set date_string = \"26 Jul 2024\" %}{{- \"Cutting Knowledge Date: "
            + "December 2023\\n\" }}<|start_header_id|><|end_header_id|><|eot_id|>"
        XCTAssertThrowsError(try ChatTemplate(recognizing: llama31, bosToken: "", eosToken: "")) {
            XCTAssertTrue("\($0)".contains("Llama 3.1 or later"), "\($0)")
            XCTAssertTrue("\($0)".contains("--template"), "\($0)")
        }
        let llama2 = try XCTUnwrap(ChatTemplate.named("llama2"))
        XCTAssertThrowsError(try llama2.render([ChatMessage(.assistant, "x")], addGenerationPrompt: false)) {
            XCTAssertEqual("\($0)", "the llama2 chat template needs turns alternating user/assistant (after an "
                + "optional first system turn); turn 1 is assistant, expected user")
        }
        let mistral = try XCTUnwrap(ChatTemplate.named("mistral"))
        XCTAssertThrowsError(try mistral.render(prompt: "a", response: "b", system: "s")) {
            XCTAssertTrue("\($0)".contains("takes only user and assistant turns; message 1 is a system turn"))
        }
    }
}
