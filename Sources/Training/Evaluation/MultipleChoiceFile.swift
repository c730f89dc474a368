import Foundation
import JSON

/// One multiple-choice question in the MMLU layout: `{"question": …, "choices": […], "answer": 0}` (`answer`: the
/// 0-based index of the right choice, or its letter "A", "B", …). Other fields (`subject`) are ignored.
public struct MultipleChoiceQuestion: Equatable, Sendable {
    public var question: String
    public var choices: [String]
    public var answer: Int
    /// Where it came from, for the per-question details.
    public var file: String
    public var line: Int

    public init(question: String, choices: [String], answer: Int, file: String = "", line: Int = 0) {
        self.question = question
        self.choices = choices
        self.answer = answer
        self.file = file
        self.line = line
    }
}

/// Reads a JSONL file of multiple-choice questions; a bad line is an error naming file:line and the field.
public enum MultipleChoiceFile {
    public static func read(_ path: String) throws -> [MultipleChoiceQuestion] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw EvaluationInputError(file: path, exists ? "cannot read the file" : "no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EvaluationInputError(file: path, "not UTF-8 text")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> [MultipleChoiceQuestion] {
        var questions = [MultipleChoiceQuestion]()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            questions.append(try question(line, file: file, line: index + 1))
        }
        guard !questions.isEmpty else {
            throw EvaluationInputError(file: file, "no questions (the file is empty or blank); expected JSONL lines "
                + "{\"question\": …, \"choices\": […], \"answer\": 0}")
        }
        return questions
    }

    static func question(_ text: String, file: String, line: Int) throws -> MultipleChoiceQuestion {
        func bad(_ field: String?, _ message: String) -> EvaluationInputError {
            EvaluationInputError(file: file, line: line, field: field, message)
        }
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch { throw bad(nil, "not valid JSON (\(error))") }
        guard let object = value.objectValue else { throw bad(nil, "expected a JSON object, found \(value.typeName)") }
        guard let q = object["question"] else { throw bad("question", "missing; expected a non-empty string") }
        guard let question = q.stringValue, !question.isEmpty else {
            throw bad("question", "expected a non-empty string, found \(q.isNull ? "null" : q.stringValue == "" ? "an empty string" : q.typeName)")
        }
        guard let c = object["choices"] else { throw bad("choices", "missing; expected an array of at least 2 strings") }
        guard let array = c.arrayValue else { throw bad("choices", "expected an array of strings, found \(c.typeName)") }
        guard array.count >= 2 else { throw bad("choices", "expected at least 2 choices, found \(array.count)") }
        var choices = [String]()
        for (i, element) in array.enumerated() {
            guard let choice = element.stringValue, !choice.isEmpty else {
                throw bad("choices[\(i)]", "expected a non-empty string, found \(element.stringValue == "" ? "an empty string" : element.typeName)")
            }
            choices.append(choice)
        }
        guard let a = object["answer"] else {
            throw bad("answer", "missing; expected the right choice's index 0…\(choices.count - 1) or its letter")
        }
        let answer: Int
        if let index = a.intValue {
            guard index >= 0 && index < choices.count else {
                throw bad("answer", "index \(index) is out of range; expected 0…\(choices.count - 1) (\(choices.count) choices)")
            }
            answer = index
        } else if let letter = a.stringValue {
            let letters = (0..<choices.count).map { String(UnicodeScalar(UInt8(65 + min($0, 25)))) }
            guard let index = letters.firstIndex(of: letter.uppercased()), choices.count <= 26 else {
                throw bad("answer", "\"\(letter)\" is not a choice letter; expected one of \(letters.joined(separator: ", "))")
            }
            answer = index
        } else {
            throw bad("answer", "expected an integer index 0…\(choices.count - 1) or a letter, found \(a.typeName)")
        }
        return MultipleChoiceQuestion(question: question, choices: choices, answer: answer, file: file, line: line)
    }
}
