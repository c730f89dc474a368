import Data
import XCTest

final class AnthropicHHTests: XCTestCase {
    private func hhLine(_ chosen: String, _ rejected: String) throws -> String {
        let object: [String: String] = ["chosen": chosen, "rejected": rejected]
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    private func read(_ pairs: [(String, String)]) throws -> ([PreferencePair], ProblemLog) {
        let text = try pairs.map { try hhLine($0.0, $0.1) }.joined(separator: "\n")
        let (records, reader) = try readAll(try Scratch(self).file("hh.jsonl", text))
        XCTAssertEqual(reader.format, .anthropicHH)
        return (records.compactMap(\.pair), reader.problems)
    }

    func test_hh_promptIsTheSharedTranscriptAndResponsesTheRemainders() throws {
        let shared = "\n\nHuman: Hi\n\nAssistant: Hello, how can I help?\n\nHuman: Name a fruit.\n\nAssistant:"
        let (pairs, _) = try read([(shared + " An apple.", shared + " No.")])
        let pair = try XCTUnwrap(pairs.first)
        XCTAssertEqual(pair.prompt, "Name a fruit.")
        XCTAssertEqual(pair.context, [Turn(.user, "Hi"), Turn(.assistant, "Hello, how can I help?")])
        XCTAssertEqual(pair.chosen, "An apple.")
        XCTAssertEqual(pair.rejected, "No.")
        XCTAssertEqual(PromptTemplate.hh.render(pair) + pair.chosen, shared + " An apple.",
                       "the hh template renders the transcript back byte for byte")
        XCTAssertEqual(PromptTemplate.xright.render(pair),
                       "User: Hi\nAssistant: Hello, how can I help?\nUser: Name a fruit.\nAssistant: ")
    }

    func test_hh_replyContainingAnAssistantMarker_staysInTheResponse() throws {
        // Cutting each side at its own last "\n\nAssistant:" would give two different prompts here.
        let shared = "\n\nHuman: How much do solar panels cost?\n\nAssistant:"
        let (pairs, problems) = try read([(shared + " Umm. Just a second...\n\nAssistant: About $300.", shared + " It depends.")])
        XCTAssertEqual(problems.total, 0)
        XCTAssertEqual(pairs.first?.prompt, "How much do solar panels cost?")
        XCTAssertEqual(pairs.first?.chosen, "Umm. Just a second...\n\nAssistant: About $300.")
        XCTAssertEqual(pairs.first?.rejected, "It depends.")
    }

    func test_hh_responsesSharingTheirFirstWords_keepThem() throws {
        let shared = "\n\nHuman: Hello?\n\nAssistant:"
        let (pairs, _) = try read([(shared + " I am fine.", shared + " I am busy.")])
        XCTAssertEqual(pairs.first?.chosen, "I am fine.")
        XCTAssertEqual(pairs.first?.rejected, "I am busy.")
    }

    func test_hh_pairsWithoutASharedPrompt_areSkipped() throws {
        let (pairs, problems) = try read([
            ("\n\nHuman: Hi\n\nAssistant: A", "\n\nHuman: Bye\n\nAssistant: B"),
            ("\n\nHuman: Hi\n\nAssistant: A\n\nHuman: More?\n\nAssistant: C",
             "\n\nHuman: Hi\n\nAssistant: B\n\nHuman: More?\n\nAssistant: D"),
        ])
        XCTAssertEqual(pairs, [])
        XCTAssertEqual(problems.count(.noSharedPrompt), 2)
        XCTAssertEqual(problems.first.map(\.message), [
            #"chosen and rejected share no prompt: their common beginning (9 bytes) holds no "\n\nAssistant:" marker"#,
            "chosen and rejected part before their last Human turn, so they do not answer the same prompt",
        ])
    }

    func test_hh_emptyOrIdenticalReplies_areSkipped() throws {
        let shared = "\n\nHuman: Thanks!\n\nAssistant:"
        let (pairs, problems) = try read([(shared + " ", shared + " Sure."), (shared + " You're welcome!", shared + " You're welcome!")])
        XCTAssertEqual(pairs, [])
        XCTAssertEqual(problems.count(.emptyResponse), 1)
        XCTAssertEqual(problems.first.first?.field, "chosen")
        XCTAssertEqual(problems.count(.identicalResponses), 1)
    }

    func test_hh_textBeforeTheFirstHumanTurn_becomesASystemTurn() throws {
        let shared = "You are kind.\n\nHuman: Hi\n\nAssistant:"
        let (pairs, _) = try read([(shared + " Hello!", shared + " What?")])
        XCTAssertEqual(pairs.first?.context, [Turn(.system, "You are kind.")])
        XCTAssertEqual(pairs.first?.prompt, "Hi")
    }
}
