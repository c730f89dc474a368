/// The (SFT loss, DPO loss) plane: each run's smoothed trajectory and current point, and the ideal point
/// (f_sft*, f_dpo*) when known. Lower-left is better on both. Replay overlays several runs, one role each.
public struct TradeoffPlane {
    public struct Trajectory {
        public var points: [(sft: Double, dpo: Double)]
        public var role: Role
        /// The current point's role (the live dashboard highlights it; overlaid runs keep their colour).
        public var currentRole: Role
        /// Unchanged from one draw to the next means `points` only grew: the first trajectory's bounds and pixel
        /// path are then extended from the scratch instead of recomputed over every point (nil: always recompute).
        public var generation: Int?

        public init(points: [(sft: Double, dpo: Double)], role: Role = .trajectory, currentRole: Role = .selected,
                    generation: Int? = nil) {
            self.points = points
            self.role = role
            self.currentRole = currentRole
            self.generation = generation
        }
    }

    public var trajectories: [Trajectory]
    public var ideal: (sft: Double, dpo: Double)?

    public init(points: [(sft: Double, dpo: Double)], ideal: (sft: Double, dpo: Double)?) {
        self.init(trajectories: [Trajectory(points: points)], ideal: ideal)
    }

    public init(trajectories: [Trajectory], ideal: (sft: Double, dpo: Double)?) {
        self.trajectories = trajectories
        self.ideal = ideal
    }

    /// The first trajectory's points (the live dashboard has one).
    public var points: [(sft: Double, dpo: Double)] { trajectories.first?.points ?? [] }

    public func draw(on surface: Surface, in rect: Rect, glyphs: Glyphs, scratch: LineChart.Scratch) {
        guard rect.width > 10, rect.height >= 3 else { return }
        let labelWidth = 6
        let plot = Rect(x: rect.x + labelWidth, y: rect.y, width: rect.width - labelWidth, height: rect.height - 1)
        var minX = Double.infinity, maxX = -Double.infinity, minY = Double.infinity, maxY = -Double.infinity
        func include(_ p: (sft: Double, dpo: Double)) {
            guard p.sft.isFinite, p.dpo.isFinite else { return }
            minX = min(minX, p.sft); maxX = max(maxX, p.sft); minY = min(minY, p.dpo); maxY = max(maxY, p.dpo)
        }
        let cache = scratch.plane
        for (index, trajectory) in trajectories.enumerated() {
            guard index == 0, let generation = trajectory.generation else { trajectory.points.forEach(include); continue }
            if cache.generation != generation || cache.boundsCount > trajectory.points.count { cache.reset(generation) }
            for p in trajectory.points[cache.boundsCount...] where p.sft.isFinite && p.dpo.isFinite {
                cache.minX = min(cache.minX, p.sft); cache.maxX = max(cache.maxX, p.sft)
                cache.minY = min(cache.minY, p.dpo); cache.maxY = max(cache.maxY, p.dpo)
            }
            cache.boundsCount = trajectory.points.count
            minX = min(minX, cache.minX); maxX = max(maxX, cache.maxX); minY = min(minY, cache.minY); maxY = max(maxY, cache.maxY)
        }
        if let ideal { include(ideal) }
        for row in plot.y..<plot.maxY { surface.put(glyphs.vertical, x: plot.x - 1, y: row, role: .axis) }
        surface.put(glyphs.bottomLeft, x: plot.x - 1, y: plot.maxY, role: .axis)
        for col in plot.x..<plot.maxX { surface.put(glyphs.horizontal, x: col, y: plot.maxY, role: .axis) }
        guard minX <= maxX else {
            surface.put("needs SFT and DPO steps", x: plot.x + 1, y: plot.y + plot.height / 2, role: .muted, clip: plot)
            return
        }
        if maxX - minX < 1e-12 { minX -= 0.5; maxX += 0.5 }
        if maxY - minY < 1e-12 { minY -= 0.5; maxY += 0.5 }
        (minX, maxX) = NiceRange.expand(minX, maxX)
        (minY, maxY) = NiceRange.expand(minY, maxY)
        let pw = plot.width * 2, ph = plot.height * 4
        let xScale = Double(pw - 1) / (maxX - minX), yScale = Double(ph - 1) / (maxY - minY)
        func pixel(_ p: (sft: Double, dpo: Double)) -> (Int, Int) {
            // +0.5 and truncate (never negative inside the bounds): round() is a library call per point.
            (Int((p.sft - minX) * xScale + 0.5), ph - 1 - Int((p.dpo - minY) * yScale + 0.5))
        }
        if scratch.canvas.columns != plot.width || scratch.canvas.rows != plot.height {
            scratch.canvas = BrailleCanvas(columns: plot.width, rows: plot.height)
        } else {
            scratch.canvas.reset()
        }
        for (index, trajectory) in trajectories.enumerated() {
            if index == 0, trajectory.generation != nil {
                // The pixel path of the new points only, unless the scale or size changed since the last frame.
                let key = [minX, maxX, minY, maxY, Double(pw), Double(ph)]
                if cache.pixelKey != key || cache.pixelCount > trajectory.points.count {
                    cache.pixelKey = key
                    cache.pixelCount = 0
                    cache.pixels.removeAll(keepingCapacity: true)
                }
                for p in trajectory.points[cache.pixelCount...] where p.sft.isFinite && p.dpo.isFinite {
                    let q = pixel(p)
                    if let last = cache.pixels.last, last == q { continue }
                    cache.pixels.append(q)
                }
                cache.pixelCount = trajectory.points.count
                if let first = cache.pixels.first { scratch.canvas.set(first.0, first.1, role: trajectory.role) }
                for i in cache.pixels.indices.dropFirst() {
                    let (a, b) = (cache.pixels[i - 1], cache.pixels[i])
                    scratch.canvas.line(a.0, a.1, b.0, b.1, role: trajectory.role)
                }
                continue
            }
            var previous: (Int, Int)?
            for p in trajectory.points where p.sft.isFinite && p.dpo.isFinite {
                let q = pixel(p)
                if let prev = previous {
                    if prev == q { continue }
                    scratch.canvas.line(prev.0, prev.1, q.0, q.1, role: trajectory.role)
                } else {
                    scratch.canvas.set(q.0, q.1, role: trajectory.role)
                }
                previous = q
            }
        }
        scratch.canvas.draw(on: surface, at: (plot.x, plot.y), braille: glyphs.usesBraille)
        for trajectory in trajectories {
            if let last = trajectory.points.last(where: { $0.sft.isFinite && $0.dpo.isFinite }) {
                let (px, py) = pixel(last)
                surface.put(glyphs.currentMark, x: plot.x + px / 2, y: plot.y + py / 4, role: trajectory.currentRole)
            }
        }
        if let ideal {
            let (px, py) = pixel(ideal)
            surface.put(glyphs.idealMark, x: plot.x + px / 2, y: plot.y + py / 4, role: .idealPoint)
        }
        surface.put(Format.axis(maxY), x: rect.x, y: plot.y, role: .muted, clip: Rect(x: rect.x, y: rect.y, width: labelWidth - 1, height: 1))
        surface.put(Format.axis(minY), x: rect.x, y: plot.maxY - 1, role: .muted, clip: Rect(x: rect.x, y: plot.maxY - 1, width: labelWidth - 1, height: 1))
        surface.put(Format.axis(minX), x: plot.x, y: plot.maxY, role: .muted, clip: rect)
        let right = Format.axis(maxX) + " SFT"
        surface.put(right, x: plot.maxX - right.unicodeScalars.count, y: plot.maxY, role: .muted, clip: rect)
    }
}
