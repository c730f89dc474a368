/// How the user wants the charts drawn (changed from the keyboard, never sent to the session).
public struct ViewSettings: Equatable, Sendable {
    public enum Axis: String, Equatable, Sendable { case step, time }
    /// The whole run, or the last `n` steps (or seconds on the time axis).
    public enum Zoom: Equatable, Sendable {
        case whole
        case last(Double)
    }

    /// EMA weights `[` and `]` step through; 0 is no smoothing.
    public static let smoothingWeights: [Double] = [0, 0.6, 0.8, 0.9, 0.95, 0.99]
    public static let zoomLevels: [Zoom] = [.whole, .last(1000), .last(200)]

    public var logScale = false
    public var smoothingIndex = 3
    public var axis: Axis = .step
    public var zoomIndex = 0
    public var themeIndex = 0
    public var showHelp = false
    /// `a`: the Samples panel in place of the loss charts (below 40 rows the only place it has).
    public var showSamples = false
    /// `b`: each probe's first reply beside its newest.
    public var compareSamples = false

    public init() {}

    public var smoothingWeight: Double { Self.smoothingWeights[smoothingIndex] }
    public var zoom: Zoom { Self.zoomLevels[zoomIndex] }
}
