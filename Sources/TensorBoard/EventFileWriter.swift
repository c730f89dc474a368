import Foundation
import SwiftProtobuf

/// One TensorBoard event file in a run's directory (`events.out.tfevents.<time>.<host>.<pid>.xright`, the name
/// TensorBoard looks for): a `brain.Event:2` version event, then one `Event` per step with its summaries.
/// Scalars are written as double tensors for the "scalars" plugin, so they keep the run log's precision
/// (a `simple_value` would round them to float); text goes to the "text" plugin.
public final class EventFileWriter {
    public let url: URL
    private let records: TFRecordWriter

    public init(directory: URL, now: Date = Date()) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TensorBoardError.cannotWrite(path: directory.path, reason: "cannot create the directory: \(error.localizedDescription)")
        }
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        var name = "events.out.tfevents.\(Int(now.timeIntervalSince1970)).\(host).\(getpid()).xright"
        var n = 1
        while FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) {
            n += 1
            name = "events.out.tfevents.\(Int(now.timeIntervalSince1970)).\(host).\(getpid()).\(n).xright"
        }
        url = directory.appendingPathComponent(name)
        records = try TFRecordWriter(creating: url)
        var version = Tensorboard_Event()
        version.wallTime = now.timeIntervalSince1970
        version.fileVersion = "brain.Event:2"
        try write(version)
    }

    /// The summaries of one step, stamped with `wallTime` (seconds since 1970).
    public func write(step: Int, wallTime: Double, items: [RunSummaries.Item]) throws {
        guard !items.isEmpty else { return }
        var event = Tensorboard_Event()
        event.wallTime = wallTime
        event.step = Int64(step)
        var summary = Tensorboard_Summary()
        summary.value = items.map(Self.summaryValue)
        event.summary = summary
        try write(event)
    }

    static func summaryValue(_ item: RunSummaries.Item) -> Tensorboard_Summary.Value {
        var value = Tensorboard_Summary.Value()
        value.tag = item.tag
        var metadata = Tensorboard_SummaryMetadata()
        var tensor = Tensorboard_TensorProto()
        switch item.value {
        case .scalar(let number):
            metadata.pluginData.pluginName = "scalars"
            metadata.dataClass = .scalar
            tensor.dtype = .dtDouble
            tensor.doubleVal = [number]
        case .text(let text):
            metadata.pluginData.pluginName = "text"
            metadata.dataClass = .tensor
            tensor.dtype = .dtString
            tensor.stringVal = [Data(text.utf8)]
        }
        value.metadata = metadata
        value.tensor = tensor
        return value
    }

    private func write(_ event: Tensorboard_Event) throws {
        let data: Data
        do {
            data = try event.serializedData()
        } catch {
            throw TensorBoardError.cannotWrite(path: url.path, reason: "cannot encode an event: \(error)")
        }
        try records.write(data)
    }
}
