import Foundation

/// A file of reference Pareto points (f_sft, f_dpo) for the stop rule (`--ref-front FILE`, docs/TRAINING.md):
/// one point a line as two numbers separated by a comma or spaces, `#` comments and blank lines ignored; or a
/// CSV with a header row naming `f_sft` and `f_dpo` columns (as `xright sweep --csv` writes), whose rows with
/// both values are the points.
public enum ReferenceFront {
    public static func read(_ path: String) throws -> [Optima] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ReferenceFrontError(file: path, line: nil, message: "cannot read the file (\((error as NSError).localizedDescription))")
        }
        return try parse(text, path: path)
    }

    /// Parses `text`; `path` only names the file in errors.
    public static func parse(_ text: String, path: String) throws -> [Optima] {
        var points = [Optima]()
        var columns: (sft: Int, dpo: Int)?
        var sawContent = false
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let content = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
            if content.isEmpty { continue }
            let fields = content.contains(",")
                ? content.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                : content.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            defer { sawContent = true }
            if !sawContent, fields.contains(where: { Double($0) == nil }) {
                // A header row: it must name both columns.
                guard let s = fields.firstIndex(of: "f_sft"), let d = fields.firstIndex(of: "f_dpo") else {
                    throw ReferenceFrontError(file: path, line: line, message: "expected two numbers (f_sft, f_dpo) or a header "
                        + "row naming the f_sft and f_dpo columns; found '\(content)'")
                }
                columns = (s, d)
                continue
            }
            if let columns {
                guard fields.count > max(columns.sft, columns.dpo) else {
                    throw ReferenceFrontError(file: path, line: line, message: "expected at least \(max(columns.sft, columns.dpo) + 1) "
                        + "fields as in the header row, found \(fields.count)")
                }
                let (s, d) = (fields[columns.sft], fields[columns.dpo])
                // A run without both evaluations has empty cells: not a point of the front.
                if s.isEmpty || d.isEmpty { continue }
                points.append(try point(s, d, path: path, line: line))
            } else {
                guard fields.count == 2 else {
                    throw ReferenceFrontError(file: path, line: line, message: "expected two numbers (f_sft, f_dpo), found \(fields.count) fields")
                }
                points.append(try point(fields[0], fields[1], path: path, line: line))
            }
        }
        guard !points.isEmpty else {
            throw ReferenceFrontError(file: path, line: nil, message: "no points (expected lines of two numbers: f_sft, f_dpo)")
        }
        return points
    }

    private static func point(_ sft: String, _ dpo: String, path: String, line: Int) throws -> Optima {
        guard let s = Double(sft), s.isFinite else {
            throw ReferenceFrontError(file: path, line: line, message: "f_sft: expected a finite number, found '\(sft)'")
        }
        guard let d = Double(dpo), d.isFinite else {
            throw ReferenceFrontError(file: path, line: line, message: "f_dpo: expected a finite number, found '\(dpo)'")
        }
        return Optima(sft: s, dpo: d)
    }
}

public struct ReferenceFrontError: Error, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}
