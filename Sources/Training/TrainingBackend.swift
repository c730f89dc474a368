import Foundation

/// The seam to the compute engine: a model (or its adapters) with an optimizer and a frozen reference. The
/// session drives it one optimizer step at a time; everything it needs from the engine is here.
///
/// Calls come from the session's own thread only, never concurrently.
public protocol TrainingBackend: AnyObject {
    /// Loss (and DPO metrics) of `objective` on `batch` with the current weights. When `gradientWeight` is
    /// non-nil, ACCUMULATES gradientWeight · ∇loss into the gradient buffers (so mix calls it twice, then updates
    /// once); when nil, runs without a gradient (MAXRIGHT's gap evaluation).
    func evaluate(_ objective: Objective, batch: any TrainingBatch, gradientWeight: Double?) throws -> ObjectiveMetrics

    /// Clips the accumulated gradient, takes one optimizer step, zeroes the gradient. When the gradient is not
    /// finite, skips the step (weights and optimizer state unchanged), zeroes the gradient and says so.
    func applyUpdate() throws -> UpdateOutcome

    /// Zeroes the accumulated gradient without stepping (a non-finite loss was seen).
    func discardGradients()

    /// Mean loss (and DPO metrics) of `objective` over its held-out set, no gradient.
    func evaluateHeldOut(_ objective: Objective) throws -> ObjectiveMetrics

    /// The learning rate the next update will use (for the log).
    var learningRate: Double { get }

    /// Writes everything needed to continue bit-identically — trainable weights or adapters, optimizer moments
    /// and step count, any RNG the engine owns — as files inside `directory` (which exists and is empty).
    func saveState(to directory: URL) throws

    /// Restores what `saveState(to:)` wrote.
    func loadState(from directory: URL) throws
}

/// What `applyUpdate()` did.
public enum UpdateOutcome: Equatable, Sendable {
    /// The optimizer stepped; the gradient's global L2 norm before clipping.
    case applied(gradientNorm: Double)
    /// The gradient held NaN or ±∞; nothing changed.
    case skippedNonFinite(detail: String)
}
