import Foundation

/// DPO's per-pair loss from sequence log-probabilities (Rafailov et al. 2023; IPO: Azar et al. 2023), as in
/// OpenRLHF/XRIGHT: z = (log π(y_w) − log π(y_l)) − (log π_ref(y_w) − log π_ref(y_l)).
public struct PreferenceLoss: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, CaseIterable, Sendable { case sigmoid, ipo }

    public var kind: Kind
    public var beta: Double
    /// Conservative DPO's ε: −(1−ε)·log σ(βz) − ε·log σ(−βz). Sigmoid loss only.
    public var labelSmoothing: Double

    public init(kind: Kind = .sigmoid, beta: Double = 0.1, labelSmoothing: Double = 0) {
        self.kind = kind
        self.beta = beta
        self.labelSmoothing = labelSmoothing
    }

    public func validate() throws {
        guard beta.isFinite, beta > 0 else {
            throw TrainingConfigError.invalid(field: "beta", expected: "a finite number > 0", found: "\(beta)")
        }
        guard labelSmoothing.isFinite, labelSmoothing >= 0, labelSmoothing < 0.5 else {
            throw TrainingConfigError.invalid(field: "label-smoothing", expected: "a number in [0, 0.5)", found: "\(labelSmoothing)")
        }
    }

    /// The loss of one pair and its derivative with respect to z.
    public func loss(policyChosen: Double, policyRejected: Double, referenceChosen: Double,
                     referenceRejected: Double) -> (loss: Double, dz: Double) {
        let z = (policyChosen - policyRejected) - (referenceChosen - referenceRejected)
        switch kind {
        case .sigmoid:
            let e = labelSmoothing, bz = beta * z
            let loss = -(1 - e) * logSigmoid(bz) - e * logSigmoid(-bz)
            // d/dz −log σ(βz) = −β·σ(−βz); d/dz −log σ(−βz) = β·σ(βz)
            let dz = -(1 - e) * beta * sigmoid(-bz) + e * beta * sigmoid(bz)
            return (loss, dz)
        case .ipo:
            let d = z - 1 / (2 * beta)
            return (d * d, 2 * d)
        }
    }

    /// log σ(x) without overflow for large |x|.
    func logSigmoid(_ x: Double) -> Double { x >= 0 ? -Foundation.log1p(Foundation.exp(-x)) : x - Foundation.log1p(Foundation.exp(x)) }
    func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x)) }
}
