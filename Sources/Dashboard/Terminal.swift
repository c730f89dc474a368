#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CNcurses
import Foundation

/// How many colours to use.
public enum ColorMode: Equatable, Sendable {
    /// `NO_COLOR`, or a terminal without colour: attributes only.
    case none
    case eight, sixteen, palette256

    public var count: Int {
        switch self {
        case .none: return 0
        case .eight: return 8
        case .sixteen: return 16
        case .palette256: return 256
        }
    }

    /// The mode for a terminal reporting `colors` colours; `NO_COLOR` (any non-empty value, no-color.org) wins.
    public static func detect(terminalColors: Int, hasColors: Bool, environment: [String: String]) -> ColorMode {
        if let v = environment["NO_COLOR"], !v.isEmpty { return .none }
        guard hasColors else { return .none }
        if terminalColors >= 256 { return .palette256 }
        if terminalColors >= 16 { return .sixteen }
        if terminalColors >= 8 { return .eight }
        return .none
    }
}

/// The ncurses screen as a `Surface`. Frames are drawn after `erase()` into the virtual screen and sent with one
/// `doupdate()`, so ncurses sends only the cells that changed, wrapped in DEC mode 2026 (synchronized update)
/// so terminals that know it show the frame at once and the rest ignore it.
public final class Terminal: Surface {
    public private(set) var width: Int = 0
    public private(set) var height: Int = 0
    public let colorMode: ColorMode
    public let isUTF8: Bool
    private var roleAttributes = [UInt32](repeating: 0, count: Role.allCases.count)
    private var rolePairs = [Int16](repeating: 0, count: Role.allCases.count)
    private var currentRole: Role?
    private var wideBuffer = [wchar_t](repeating: 0, count: 512)
    private var isOpen = false
    public var synchronizedUpdates = true

    // ncurses macros Swift cannot import: attribute bits (NCURSES_BITS(1, n) = 1 << (n + 8)) and key codes.
    static let attrBold: UInt32 = 1 << 21, attrDim: UInt32 = 1 << 20, attrReverse: UInt32 = 1 << 18
    static let keyCodeYes: Int32 = 0o400, keyDown: Int32 = 0o402, keyUp: Int32 = 0o403, keyLeft: Int32 = 0o404,
               keyRight: Int32 = 0o405, keyBackspace: Int32 = 0o407, keyEnter: Int32 = 0o527, keyResize: Int32 = 0o632

    /// Opens the screen: locale first (wide characters need it), a 25 ms ESCDELAY so Esc and arrows feel
    /// instant, no echo, keypad decoding, hidden cursor, input polled every `inputTimeoutMilliseconds`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, inputTimeoutMilliseconds: Int32 = 20,
                forceASCII: Bool = false) {
        setlocale(LC_ALL, "")
        let codeset = String(cString: nl_langinfo(nl_item(CODESET))).uppercased()
        isUTF8 = !forceASCII && (codeset == "UTF-8" || codeset == "UTF8")
        set_escdelay(25)
        initscr()
        cbreak()
        noecho()
        nonl()
        intrflush(stdscr, false)
        keypad(stdscr, true)
        curs_set(0)
        wtimeout(stdscr, inputTimeoutMilliseconds)
        // COLORS is only known after start_color(), which NO_COLOR must not call.
        if ColorMode.detect(terminalColors: 256, hasColors: has_colors(), environment: environment) != .none {
            start_color()
            use_default_colors()
        }
        colorMode = ColorMode.detect(terminalColors: Int(COLORS), hasColors: has_colors(), environment: environment)
        isOpen = true
        TerminalRestorer.install(self)
        refreshSize()
    }

    deinit { close() }

    /// Gives the terminal back: leaves curses mode (restores the cursor, echo, the main screen).
    public func close() {
        guard isOpen else { return }
        isOpen = false
        curs_set(1)
        endwin()
        TerminalRestorer.uninstall()
    }

    public func refreshSize() {
        width = Int(getmaxx(stdscr))
        height = Int(getmaxy(stdscr))
    }

    /// Maps each role to a colour pair and attributes for this terminal's colour mode.
    public func apply(_ theme: Theme) {
        currentRole = nil
        for role in Role.allCases {
            let style = theme.style(role)
            var attributes: UInt32 = style.bold ? Self.attrBold : 0
            var pair: Int16 = 0
            if colorMode == .none {
                // Without colour, what must stand out is reversed or dimmed.
                switch role {
                case .selected, .error: attributes |= Self.attrReverse
                case .muted, .sftRaw, .dpoRaw, .gaugeEmpty, .border, .axis: attributes = Self.attrDim
                default: break
                }
            } else {
                pair = Int16(role.rawValue + 1)
                let fg = style.foreground.paletteIndex(colors: colorMode.count) ?? -1
                let bg = style.background.paletteIndex(colors: colorMode.count) ?? -1
                init_pair(pair, Int16(fg), Int16(bg))
            }
            roleAttributes[role.rawValue] = attributes
            rolePairs[role.rawValue] = pair
        }
        // Erased cells take the text role's colours, so a theme's background fills the screen.
        wbkgdset(stdscr, chtype(UInt32(rolePairs[Role.text.rawValue]) << 8) | chtype(UInt8(ascii: " ")))
    }

    private func select(_ role: Role) {
        guard currentRole != role else { return }
        currentRole = role
        wattr_set(stdscr, attr_t(roleAttributes[role.rawValue]), rolePairs[role.rawValue], nil)
    }

    public func put(_ text: String, x: Int, y: Int, role: Role, clip: Rect) {
        guard y >= max(0, clip.y), y < min(height, clip.maxY) else { return }
        let left = max(0, clip.x), right = min(width, clip.maxX)
        var count = 0, col = x, start = x
        for scalar in text.unicodeScalars {
            if col >= right || count >= wideBuffer.count { break }
            if col >= left {
                if count == 0 { start = col }
                wideBuffer[count] = wchar_t(bitPattern: scalar.value)
                count += 1
            }
            col += 1
        }
        guard count > 0 else { return }
        select(role)
        // Writing the last cell of the screen would scroll it; ncurses returns ERR there but draws the cell.
        _ = wideBuffer.withUnsafeBufferPointer { mvwaddnwstr(stdscr, Int32(y), Int32(start), $0.baseAddress, Int32(count)) }
    }

    public func put(_ scalar: Unicode.Scalar, x: Int, y: Int, role: Role) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        select(role)
        var wide: (wchar_t, wchar_t) = (wchar_t(bitPattern: scalar.value), 0)
        _ = withUnsafePointer(to: &wide) {
            $0.withMemoryRebound(to: wchar_t.self, capacity: 2) { mvwaddnwstr(stdscr, Int32(y), Int32(x), $0, 1) }
        }
    }

    public func beginFrame() {
        currentRole = nil
        werase(stdscr)
    }

    /// Sends the frame: only changed cells, as one synchronized update.
    public func endFrame() {
        wnoutrefresh(stdscr)
        if synchronizedUpdates { Self.writeRaw("\u{1B}[?2026h") }
        doupdate()
        if synchronizedUpdates { Self.writeRaw("\u{1B}[?2026l") }
    }

    /// After a resize: ncurses has the new size; the next frame is sent whole.
    public func handleResize() {
        refreshSize()
        clearok(stdscr, true)
    }

    /// The next key, or nil when none arrived within the input timeout.
    public func readKey() -> Key? {
        var wide: wint_t = 0
        let status = wget_wch(stdscr, &wide)
        if status == ERR { return nil }
        let code = Int32(bitPattern: UInt32(wide))
        if status == Self.keyCodeYes {
            switch code {
            case Self.keyLeft: return .left
            case Self.keyRight: return .right
            case Self.keyUp: return .up
            case Self.keyDown: return .down
            case Self.keyEnter: return .enter
            case Self.keyBackspace: return .backspace
            case Self.keyResize: return .resize
            default: return nil
            }
        }
        switch code {
        case 27: return .escape
        case 10, 13: return .enter
        case 8, 127: return .backspace
        default:
            guard let scalar = Unicode.Scalar(UInt32(wide)) else { return nil }
            return .char(Character(scalar))
        }
    }

    static func writeRaw(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    }
}

/// Puts the terminal back on every way out: normal return (Terminal.close), `exit()` (atexit), and fatal
/// signals (the handler leaves curses mode, then re-raises with the default action).
enum TerminalRestorer {
    nonisolated(unsafe) static var active = false
    nonisolated(unsafe) static var installedHandlers = false

    static func install(_ terminal: Terminal) {
        active = true
        guard !installedHandlers else { return }
        installedHandlers = true
        atexit { if TerminalRestorer.active { TerminalRestorer.active = false; endwin() } }
        for sig in [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP] {
            signal(sig) { received in
                if TerminalRestorer.active { TerminalRestorer.active = false; endwin() }
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }

    static func uninstall() { active = false }
}
