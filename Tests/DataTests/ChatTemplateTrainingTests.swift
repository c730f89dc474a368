import Data
import Foundation
import TestSupport
import Text
import XCTest

/// Training through a chat template gives the token ids `transformers` gives, `apply_chat_template(messages,
/// tokenize=True)`, with the loss on exactly the assistant spans (goldens: Fixtures/chat_training.json and the
/// tokenizer Fixtures/chat_tokenizer.json, made by scripts/goldens/make_chat_training_goldens.py): for a
/// single-turn SFT example, each reply of a multi-turn sharegpt conversation, and both sides of a DPO pair; with
/// SmolLM2's GGUF tokenizer and template, and with a small BPE tokenizer under each template family.
final class ChatTemplateTrainingTests: XCTestCase {
    struct Case {
        var tokenizer: String, template: String, kind: String
        var messages: [Turn]
        var ids: [Int], mask: [Bool]
        var chosen = "", rejected = ""
        var rejectedIds: [Int] = [], rejectedMask: [Bool] = []
    }

    private struct Golden {
        var templates: [String: ChatTemplate] = [:]
        var cases: [Case] = []
    }

    private func golden() throws -> Golden {
        let data = try Data(contentsOf: TestPaths.fixture("DataTests", "chat_training.json"))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var golden = Golden()
        for (name, value) in try XCTUnwrap(root["templates"] as? [String: [String: Any]]) {
            golden.templates[name] = try ChatTemplate(recognizing: value["template"] as! String,
                                                      bosToken: value["bos_token"] as? String ?? "",
                                                      eosToken: value["eos_token"] as! String)
        }
        for item in try XCTUnwrap(root["cases"] as? [[String: Any]]) {
            let turns = (item["messages"] as! [[String]]).map { Turn(Turn.Role(rawValue: $0[0])!, $0[1]) }
            let kind = item["kind"] as! String
            let ids = (item[kind == "dpo" ? "chosen_ids" : "ids"] as! [Int])
            let mask = (item[kind == "dpo" ? "chosen_mask" : "assistant_mask"] as! [Int]).map { $0 == 1 }
            var c = Case(tokenizer: item["tokenizer"] as! String, template: item["template"] as! String, kind: kind,
                         messages: turns, ids: ids, mask: mask)
            if kind == "dpo" {
                c.chosen = item["chosen"] as! String
                c.rejected = item["rejected"] as! String
                c.rejectedIds = item["rejected_ids"] as! [Int]
                c.rejectedMask = (item["rejected_mask"] as! [Int]).map { $0 == 1 }
            }
            golden.cases.append(c)
        }
        return golden
    }

    private func tinyTokenizer() throws -> any Tokenizer {
        try TokenizerLoader.load(path: TestPaths.fixture("DataTests", "chat_tokenizer.json").path)
    }

    /// The masked runs of a golden mask: one per assistant reply.
    private func runs(_ mask: [Bool]) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        var start: Int?
        for (i, on) in (mask + [false]).enumerated() {
            if on, start == nil { start = i }
            if !on, let s = start { runs.append(s..<i); start = nil }
        }
        return runs
    }

    private func check(_ item: Case, template: ChatTemplate, tokenizer: any Tokenizer,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let label = "\(item.tokenizer)/\(item.template) \(item.kind) \(item.messages.map(\.text))"
        let encoder = try ExampleTokenizer(tokenizer: tokenizer, format: .chat(template))
        let replies = runs(item.mask)
        XCTAssertEqual(replies.count, item.messages.filter { $0.role == .assistant }.count + (item.kind == "dpo" ? 1 : 0),
                       label, file: file, line: line)
        switch item.kind {
        case "sft":
            let last = item.messages.count - 1
            let example = SFTExample(prompt: item.messages[last - 1].text, response: item.messages[last].text,
                                     context: Array(item.messages[..<(last - 1)]), source: RecordLocation(file: "golden", line: 1, recordIndex: 0))
            let t = try encoder.tokenize(example)
            XCTAssertEqual(t.ids.map(Int.init), Array(item.ids[..<replies[0].upperBound]), label, file: file, line: line)
            XCTAssertEqual(t.responseStart, replies[0].lowerBound, label, file: file, line: line)
        case "multi":
            // The conversation as a sharegpt record, read as a run reads it: one example per reply.
            let names: [Turn.Role: String] = [.system: "system", .user: "human", .assistant: "gpt"]
            let record = ["conversations": item.messages.map { ["from": names[$0.role]!, "value": $0.text] }]
            let scratch = try Scratch(self)
            let path = try scratch.file("conversation.jsonl",
                                        String(decoding: try JSONSerialization.data(withJSONObject: record), as: UTF8.self))
            let examples = try SFTReader(path: path).readAll()
            XCTAssertEqual(examples.count, replies.count, label, file: file, line: line)
            var trained = [Bool](repeating: false, count: item.ids.count)
            for (example, reply) in zip(examples, replies) {
                let t = try encoder.tokenize(example)
                XCTAssertEqual(t.ids.map(Int.init), Array(item.ids[..<reply.upperBound]), label, file: file, line: line)
                XCTAssertEqual(t.responseStart, reply.lowerBound, label, file: file, line: line)
                for i in t.responseStart..<t.ids.count { trained[i] = true }
            }
            // Across the conversation's sequences the loss covers exactly transformers' assistant mask.
            XCTAssertEqual(trained, item.mask, label, file: file, line: line)
        case "dpo":
            let last = item.messages.count - 1
            let pair = PreferencePair(prompt: item.messages[last].text, chosen: item.chosen, rejected: item.rejected,
                                      context: Array(item.messages[..<last]), source: RecordLocation(file: "golden", line: 1, recordIndex: 0))
            let t = try encoder.tokenize(pair)
            let chosenReply = try XCTUnwrap(replies.last), rejectedReply = try XCTUnwrap(runs(item.rejectedMask).last)
            XCTAssertEqual(t.chosen.ids.map(Int.init), Array(item.ids[..<chosenReply.upperBound]), label, file: file, line: line)
            XCTAssertEqual(t.rejected.ids.map(Int.init), Array(item.rejectedIds[..<rejectedReply.upperBound]), label,
                           file: file, line: line)
            XCTAssertEqual(t.chosen.responseStart, chosenReply.lowerBound, label, file: file, line: line)
            XCTAssertEqual(t.rejected.responseStart, rejectedReply.lowerBound, label, file: file, line: line)
            XCTAssertEqual(t.chosen.ids[..<t.chosen.responseStart], t.rejected.ids[..<t.rejected.responseStart], label,
                           file: file, line: line)
        default:
            XCTFail("unknown kind \(item.kind)", file: file, line: line)
        }
    }

    func testEachFamilyTrainsOnTransformersIdsAndAssistantMask() throws {
        let golden = try golden()
        let tokenizer = try tinyTokenizer()
        let cases = golden.cases.filter { $0.tokenizer == "tiny" }
        XCTAssertEqual(Set(cases.map(\.template)), ["smollm2", "qwen2.5", "llama3", "llama2", "mistral", "alpaca"])
        XCTAssertEqual(Set(cases.map(\.kind)), ["sft", "multi", "dpo"])
        for item in cases {
            try check(item, template: try XCTUnwrap(golden.templates[item.template]), tokenizer: tokenizer)
        }
    }

    /// SmolLM2's GGUF: its tokenizer and the chat template from its metadata, as `xright train --model` reads them.
    func testSmolLM2GGUFTrainsOnTransformersIdsAndAssistantMask() throws {
        let url = try SmolLM2File.url()
        let tokenizer = try BPETokenizer(ggufFile: url)
        let settings = try ModelChatSettings.read(gguf: url)
        let template = try XCTUnwrap(try settings.chatTemplate())
        XCTAssertEqual(template, try golden().templates["smollm2-gguf"])
        let cases = try golden().cases.filter { $0.tokenizer == "smollm2" }
        XCTAssertEqual(cases.count, 7)
        for item in cases { try check(item, template: template, tokenizer: tokenizer) }
    }

    /// The reply ends with the end-of-turn marker as its own id and nothing after it: no eos is appended.
    func testTheReplyEndsWithTheEndOfTurnTokenAndNoExtraEOS() throws {
        let tokenizer = try tinyTokenizer()
        let cases: [(String, String)] = [("chatml", "<|im_end|>"), ("llama3", "<|eot_id|>"), ("llama2", "</s>"),
                                         ("mistral", "</s>"), ("alpaca", "</s>")]
        for (name, marker) in cases {
            let format = try PromptFormat(parsing: name)
            let t = try ExampleTokenizer(tokenizer: tokenizer, format: format)
                .tokenize(SFTExample(prompt: "Hi", response: "Hello there!", source: RecordLocation(file: "x", line: 1, recordIndex: 0)))
            let markerId = try XCTUnwrap(tokenizer.encode(marker).first)
            XCTAssertEqual(tokenizer.encode(marker).count, 1, name)
            XCTAssertEqual(Int(t.ids.last!), markerId, name)
            XCTAssertEqual(tokenizer.decode(t.ids[t.responseStart...].map(Int.init)), name == "llama2"
                           ? " Hello there! </s>" : "Hello there!" + marker, name)
            XCTAssertEqual(format.endOfTurn, marker, name)
        }
    }

    /// The truncation rule is the text templates' one: the prompt is cut from the left, the reply keeps at least
    /// `minResponseTokens`, and the pair's prompts stay identical.
    func testTruncationKeepsThePromptEndAndTheSharedPrompt() throws {
        let tokenizer = try tinyTokenizer()
        let format = try PromptFormat(parsing: "chatml")
        let full = try ExampleTokenizer(tokenizer: tokenizer, format: format)
        let cut = try ExampleTokenizer(tokenizer: tokenizer, format: format, maxLength: 12, minResponseTokens: 4)
        let pair = PreferencePair(prompt: "What is the capital of France?", chosen: "The capital of France is Paris.",
                                  rejected: "No.", context: [Turn(.system, "Answer briefly.")],
                                  source: RecordLocation(file: "x", line: 1, recordIndex: 0))
        let whole = try full.tokenize(pair), short = try cut.tokenize(pair)
        let budget = ExampleTokenizer.truncationBudget(promptCount: whole.chosen.responseStart,
                                                       longestResponse: whole.chosen.responseTokenCount,
                                                       maxLength: 12, minResponseTokens: 4)
        XCTAssertEqual(short.chosen.responseStart, budget.prompt)
        XCTAssertEqual(short.chosen.ids, Array(whole.chosen.ids[(whole.chosen.responseStart - budget.prompt)...]
            .prefix(budget.prompt + budget.response)))
        XCTAssertEqual(short.chosen.ids[..<short.chosen.responseStart], short.rejected.ids[..<short.rejected.responseStart])
        XCTAssertLessThanOrEqual(short.chosen.ids.count, 12)
    }

    /// A conversation the template cannot render is a bad record naming the file and line, not a crash.
    func testAConversationTheTemplateRejectsIsABadRecord() throws {
        let tokenizer = try tinyTokenizer()
        let encoder = try ExampleTokenizer(tokenizer: tokenizer, format: try PromptFormat(parsing: "mistral"))
        let example = SFTExample(prompt: "Hi", response: "Hello", context: [Turn(.system, "Be brief.")],
                                 source: RecordLocation(file: "talk.jsonl", line: 3, recordIndex: 2))
        XCTAssertThrowsError(try encoder.tokenize(example)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("talk.jsonl:3"), text)
            XCTAssertTrue(text.contains("system turn"), text)
            XCTAssertEqual((error as? DataError)?.reason, .badConversation)
        }
    }

    /// `--template` names: the chat families, then the text templates; anything else is refused naming both.
    func testTemplateNamesPickAChatFamilyOrATextTemplate() throws {
        XCTAssertEqual(try PromptFormat(parsing: "chatml").description, "chat:chatml")
        XCTAssertEqual(try PromptFormat(parsing: "alpaca").description, "chat:alpaca")
        XCTAssertEqual(try PromptFormat(parsing: "xright"), .text(.xright))
        XCTAssertEqual(try PromptFormat(parsing: "hh"), .text(.hh))
        XCTAssertEqual(try PromptFormat(parsing: "Q: {prompt}\\nA: ").description, "Q: {prompt}\nA: ")
        guard case .chat(let llama2) = try PromptFormat(parsing: "llama2", bosToken: "<|endoftext|>", eosToken: "<|endoftext|>") else {
            return XCTFail("llama2 is a chat family")
        }
        XCTAssertEqual(llama2.eosToken, "<|endoftext|>", "a chat family renders with the model's own EOS")
        XCTAssertThrowsError(try PromptFormat(parsing: "vicuna")) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.hasPrefix("--template: \"vicuna\" is neither a template name (chatml, llama3, llama2, "
                + "mistral, alpaca, xright, raw, hh)"), text)
        }
        XCTAssertThrowsError(try PromptFormat(parsing: "{prompt} and {prompt}"))
    }
}
