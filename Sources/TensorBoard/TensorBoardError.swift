/// Why event files could not be written, or a run could not be exported.
public enum TensorBoardError: Error, Equatable, CustomStringConvertible {
    case cannotWrite(path: String, reason: String)
    case outputHoldsEvents(path: String)
    case cannotRead(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotWrite(let path, let reason): return "\(path): cannot write TensorBoard events (\(reason))"
        case .outputHoldsEvents(let path):
            return "\(path) holds TensorBoard event files already; TensorBoard would show both (remove it or choose another output directory)"
        case .cannotRead(let path, let reason): return "\(path): \(reason)"
        }
    }
}
