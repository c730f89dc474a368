import Foundation
import TestSupport
import Text
import XCTest

/// Where a model's chat template comes from: a GGUF's metadata or a directory's tokenizer_config.json, read as
/// transformers reads them; bad files are errors naming the file and field.
final class ChatTemplateSourceTests: XCTestCase {
    private func directory(_ config: String?) throws -> URL {
        let url = try TestPaths.temporaryDirectory("xright-chat-source")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        if let config { try Data(config.utf8).write(to: url.appendingPathComponent("tokenizer_config.json")) }
        return url
    }

    func testTokenizerConfigGivesTheTemplateAndItsSpecialTokens() throws {
        let url = try directory(#"{"chat_template": "{{ bos_token }}[INST] x [/INST] <<SYS>>", "#
            + #""bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>"}"#)
        let settings = try XCTUnwrap(try ModelChatSettings.read(modelAt: url.path))
        XCTAssertEqual(settings.bosToken, "<s>")
        XCTAssertEqual(settings.eosToken, "</s>")
        let template = try XCTUnwrap(try settings.chatTemplate())
        XCTAssertEqual(template, ChatTemplate(family: .llama2, bosToken: "<s>", eosToken: "</s>"))
        XCTAssertEqual(template.endOfTurn, "</s>")
    }

    func testNoConfigOrNoTemplateMeansNoChatTemplate() throws {
        XCTAssertNil(try ModelChatSettings.read(modelAt: try directory(nil).path))
        let settings = try XCTUnwrap(try ModelChatSettings.read(modelAt: try directory(#"{"eos_token": "</s>"}"#).path))
        XCTAssertNil(try settings.chatTemplate())
        XCTAssertEqual(settings.eosToken, "</s>")
    }

    func testTheGGUFsMetadataGivesSmolLM2sChatMLAndItsTokens() throws {
        let settings = try ModelChatSettings.read(gguf: try SmolLM2File.url())
        XCTAssertEqual(settings.eosToken, "<|im_end|>")
        XCTAssertEqual(try settings.chatTemplate()?.family, .chatML)
        XCTAssertEqual(try settings.chatTemplate()?.defaultSystemPrompt,
                       "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
    }

    func testBadConfigsAreErrorsNamingTheFileAndTemplate() throws {
        let notJSON = try directory("{not json")
        XCTAssertThrowsError(try ModelChatSettings.read(modelAt: notJSON.path)) { error in
            XCTAssertEqual(String(describing: error), notJSON.appendingPathComponent("tokenizer_config.json").path
                + ": not a JSON object")
        }
        let list = try directory(#"{"chat_template": [{"name": "default", "template": "x"}]}"#)
        XCTAssertThrowsError(try ModelChatSettings.read(modelAt: list.path)) { error in
            XCTAssertTrue(String(describing: error).contains("field \"chat_template\": expected a string"), "\(error)")
            XCTAssertTrue(String(describing: error).contains("--template"), "\(error)")
        }
        let unknown = try directory(#"{"chat_template": "{{ messages }} <|assistant|>"}"#)
        let settings = try XCTUnwrap(try ModelChatSettings.read(modelAt: unknown.path))
        XCTAssertThrowsError(try settings.chatTemplate()) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.hasPrefix(unknown.appendingPathComponent("tokenizer_config.json").path + ": "), text)
            XCTAssertTrue(text.contains("choose a prompt format with --template"), text)
        }
    }
}
