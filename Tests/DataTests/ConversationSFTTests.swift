import Data
import Foundation
import TestSupport
import Text
import XCTest

/// SFT from conversations (sharegpt `conversations`/`from`/`value` or OpenAI `messages`/`role`/`content`): every
/// assistant reply is trained once, after exactly the history before it; everything else is masked.
final class ConversationSFTTests: XCTestCase {
    private var fixture: String { TestPaths.fixture("DataTests", "conversations.jsonl").path }

    func test_conversation_becomesOneExamplePerReply_withTheWholeHistoryBeforeIt() throws {
        let reader = try SFTReader(path: fixture)
        let examples = try reader.readAll()
        XCTAssertEqual(reader.reader.format, .sharegptSFT)
        XCTAssertEqual(examples.map(\.response), ["Hello.", "Apple.", "4", "Paris.", "Rome."])
        XCTAssertEqual(examples[0].context, [Turn(.system, "Be brief.")])
        XCTAssertEqual(examples[0].prompt, "Hi")
        XCTAssertEqual(examples[1].context, [Turn(.system, "Be brief."), Turn(.user, "Hi"), Turn(.assistant, "Hello.")])
        XCTAssertEqual(examples[1].prompt, "Name a fruit.")
        XCTAssertEqual(examples[4].context, [Turn(.user, "Capital of France?"), Turn(.assistant, "Paris.")])
        XCTAssertEqual(examples[4].prompt, "And of Italy?")
        XCTAssertEqual(examples.map(\.source.line), [1, 1, 2, 3, 3])
        XCTAssertEqual(reader.reader.usableRecords, 3)
        XCTAssertEqual(reader.reader.examplesProduced, 5)
        XCTAssertEqual(reader.reader.conversationTurns, 5 + 2 + 4)
    }

    func test_tokenized_repliesAreTrained_andEverythingElseMasked() throws {
        let encoder = try ExampleTokenizer(tokenizer: TestByteTokenizer(), template: .xright)
        let examples = try SFTReader(path: fixture).readAll()
        let second = try encoder.tokenize(examples[1])
        let masked = "Be brief.\nUser: Hi\nAssistant: Hello.\nUser: Name a fruit.\nAssistant: "
        XCTAssertEqual(Array(second.ids[..<second.responseStart]).map(Int.init), Array(masked.utf8).map(Int.init))
        XCTAssertEqual(Array(second.ids[second.responseStart...]).map(Int.init), Array("Apple.".utf8).map(Int.init) + [256])
        // Across a conversation's examples, the trained tokens are exactly its replies (and an eos after each).
        let trained = try examples[3...4].map { example -> String in
            let t = try encoder.tokenize(example)
            return TestByteTokenizer().decode(t.ids[t.responseStart...].map(Int.init))
        }
        XCTAssertEqual(trained, ["Paris.", "Rome."])
    }

    func test_dataCheck_reportsTurnsTrainedRepliesAndTheMaskedShare() throws {
        let report = try DataCheck.run(path: fixture, tokenizer: TestByteTokenizer(), tokenizerName: "byte")
        XCTAssertEqual(report.usable, 3)
        XCTAssertEqual(report.turns, 11)
        XCTAssertEqual(report.trainedTurns, 5)
        // Masked: each example's rendered prompt; trained: its reply and eos (byte tokenizer: one token per byte).
        let encoder = try ExampleTokenizer(tokenizer: TestByteTokenizer(), template: .xright)
        var masked = 0, all = 0
        for example in try SFTReader(path: fixture).readAll() {
            masked += PromptTemplate.xright.render(example).utf8.count
            all += PromptTemplate.xright.render(example).utf8.count + example.response.utf8.count + 1
        }
        XCTAssertEqual(try XCTUnwrap(report.maskedShare), Double(masked) / Double(all), accuracy: 1e-12)
        XCTAssertTrue(report.text.contains("turns: 11 messages in 3 conversations  trained replies: 5"), report.text)
        XCTAssertTrue(report.text.contains("masked share: "), report.text)
    }

    /// Through a chat template the masked share counts the rendered history and generation prompt as masked, each
    /// reply and its end-of-turn marker as trained.
    func test_dataCheck_throughAChatTemplate_reportsTheMaskedShareOfTheRenderedConversations() throws {
        let tokenizer = try TokenizerLoader.load(path: TestPaths.fixture("DataTests", "chat_tokenizer.json").path)
        let format = try PromptFormat(parsing: "chatml")
        let report = try DataCheck.run(path: fixture, options: DataCheckOptions(promptFormat: format),
                                       tokenizer: tokenizer, tokenizerName: "chat_tokenizer.json")
        XCTAssertEqual(report.turns, 11)
        XCTAssertEqual(report.trainedTurns, 5)
        XCTAssertEqual(report.template, "chat:chatml")
        let chatML = try XCTUnwrap(ChatTemplate.named("chatml"))
        var masked = 0, all = 0
        for example in try SFTReader(path: fixture).readAll() {
            let history = example.context.map { ChatMessage(ChatMessage.Role(rawValue: $0.role.rawValue)!, $0.text) }
            let prompt = try chatML.render(history + [ChatMessage(.user, example.prompt)], addGenerationPrompt: true).text
            masked += tokenizer.encode(prompt).count
            all += tokenizer.encode(prompt).count + tokenizer.encode(example.response + "<|im_end|>").count
        }
        XCTAssertEqual(try XCTUnwrap(report.maskedShare), Double(masked) / Double(all), accuracy: 1e-12)
        XCTAssertTrue(report.text.contains("tokens (chat_tokenizer.json, template chat:chatml, 5 sequences)"), report.text)
    }

    func test_badConversations_areSkippedNamingTheMessage() throws {
        let scratch = try Scratch(self)
        let lines = [
            #"{"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}, {"from": "human", "value": "more?"}]}"#,
            #"{"conversations": [{"from": "human", "value": "q"}, {"from": "human", "value": "q again"}, {"from": "gpt", "value": "a"}]}"#,
            #"{"conversations": [{"from": "gpt", "value": "I speak first"}]}"#,
            #"{"conversations": [{"from": "human", "value": "q"}, {"from": "system", "value": "late"}, {"from": "gpt", "value": "a"}]}"#,
            #"{"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "  "}]}"#,
            #"{"conversations": [{"from": "system", "value": "only a system message"}]}"#,
            #"{"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "a"}]}"#,
            #"{"conversations": [{"from": "human", "value": "fine"}, {"from": "gpt", "value": "good"}]}"#,
        ]
        let path = try scratch.file("bad.jsonl", lines.joined(separator: "\n"))
        let reader = try SFTReader(path: path)
        let examples = try reader.readAll()
        XCTAssertEqual(examples.map(\.response), ["good"])
        XCTAssertEqual(reader.problems.first.map(\.message), [
            #"field "conversations": expected the conversation to end with a gpt reply to train, found a human message"#,
            "conversations[1]: expected a gpt message (human and gpt messages alternate, starting with a human one), found a human message",
            "conversations[0]: expected a human message (human and gpt messages alternate, starting with a human one), found a gpt message",
            "conversations[1]: a system message may only open the conversation",
            #"field "conversations[1].value": expected a non-empty response, found "  ""#,
            #"field "conversations": expected the conversation to end with a gpt reply to train, found a system message"#,
            #"field "messages[0].value": expected a non-empty prompt, found """#,
        ])
        XCTAssertEqual(reader.problems.first.map(\.line), [1, 2, 3, 4, 5, 6, 7])
        XCTAssertEqual(reader.problems.count(.badConversation), 5)
    }

    func test_detection_followsTheKindAskedFor() throws {
        let scratch = try Scratch(self)
        // A preference file whose first record lacks `chosen`: read as preferences, it is a missing field.
        let path = try scratch.file("pref.jsonl", #"{"conversations": [{"from": "human", "value": "q"}], "rejected": "no"}"#)
        let reader = try PreferenceReader(path: path)
        XCTAssertEqual(try reader.readAll(), [])
        XCTAssertEqual(reader.reader.format, .sharegpt)
        XCTAssertEqual(reader.problems.count(.missingField), 1)
        // Without a kind, a conversation without chosen/rejected is SFT.
        let sft = try scratch.file("sft.jsonl", #"{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}"#)
        let (records, plain) = try readAll(sft)
        XCTAssertEqual(plain.format, .sharegptSFT)
        XCTAssertEqual(records.count, 1)
    }

    func test_sharedMultiTurnPreferences_keepTheirHistory_andDataCheckCountsTurns() throws {
        let file = try TestPaths.sharedFile("dpo_en_demo.json")
        let pairs = try PreferenceReader(path: file.path).readAll()
        XCTAssertTrue(pairs.contains { $0.context.contains { $0.role == .assistant } }, "no multi-turn pair in the shared file")
        let report = try DataCheck.run(path: file.path, tokenizer: TestByteTokenizer(), tokenizerName: "byte")
        let messages = pairs.reduce(0) { $0 + $1.context.count + 1 }
        XCTAssertEqual(report.turns, messages)
        XCTAssertGreaterThan(messages, pairs.count, "multi-turn history counts every message")
        XCTAssertNil(report.trainedTurns)
        let share = try XCTUnwrap(report.maskedShare)
        XCTAssertTrue(share > 0 && share < 1, "\(share)")
    }
}
