import Artifacts
import Support

/// The pca artifact (`gcml.pca/1`), one modality: mean, top-k principal axes (orthonormal
/// rows, by decreasing variance) and the variance along each. The applied model is
/// exactly what `gcml.pca/1` stores (mean float64, components float32), so a
/// saved model reproduces the fitted run bit for bit. Fitting and projecting: Features.
public struct PCAModel: Equatable, Sendable {
    public var mean: [Double]
    /// k × D, row-major.
    public var components: [Float]
    public var explainedVariance: [Double]
    /// Sum of the variances of all D input directions (trace of the covariance), when known from a fit.
    public var totalVariance: Double?

    /// Root attribute of each modality group: the trace of the fitted covariance.
    public static let totalVarianceAttribute = "total_variance"

    public var inputDimension: Int { mean.count }
    public var outputDimension: Int { explainedVariance.count }

    public init(mean: [Double], components: [Float], explainedVariance: [Double], totalVariance: Double? = nil) {
        precondition(components.count == mean.count * explainedVariance.count)
        self.mean = mean
        self.components = components
        self.explainedVariance = explainedVariance
        self.totalVariance = totalVariance
    }

    /// Writes `/<modality>/mean`, `/components`, `/explained_variance` (gcml.pca/1).
    public func write(to group: Group, modality: String) throws {
        try group.write("\(modality)/\(DatasetPath.PCA.mean)", mean)
        try group.write("\(modality)/\(DatasetPath.PCA.components)", components, shape: [outputDimension, inputDimension])
        try group.write("\(modality)/\(DatasetPath.PCA.explainedVariance)", explainedVariance)
        if let totalVariance { try group.group(modality).setAttribute(Self.totalVarianceAttribute, .double(totalVariance)) }
    }

    /// Reads one modality of a gcml.pca/1 file (float32 or float64 datasets), nil when the file lacks it.
    public static func read(from file: HDF5File, modality: String) throws -> PCAModel? {
        let root = file.root
        let componentsPath = "/\(modality)/\(DatasetPath.PCA.components)"
        guard root.exists(componentsPath) else { return nil }
        func doubles(_ name: String) throws -> [Double] {
            let dataset = try root.dataset(name)
            return dataset.elementType == .float64 ? try dataset.read(as: Double.self) : try dataset.read(as: Float.self).map(Double.init)
        }
        let componentsSet = try root.dataset(componentsPath)
        let components = componentsSet.elementType == .float32 ? try componentsSet.read(as: Float.self)
            : try componentsSet.read(as: Double.self).map(Float.init)
        let mean = try doubles("\(modality)/\(DatasetPath.PCA.mean)")
        let variance = try doubles("\(modality)/\(DatasetPath.PCA.explainedVariance)")
        guard componentsSet.shape == [variance.count, mean.count] else {
            throw GCMLError(file: file.path, object: componentsPath, expected: "shape [\(variance.count), \(mean.count)]",
                            found: "\(componentsSet.shape)")
        }
        let total = try root.group(modality).doubleAttribute(totalVarianceAttribute)
        return PCAModel(mean: mean, components: components, explainedVariance: variance, totalVariance: total)
    }
}

/// The PCA models of a `gcml.pca/1` file.
public struct SavedPCA: Equatable, Sendable {
    public var visual: PCAModel
    public var audio: PCAModel?

    public init(visual: PCAModel, audio: PCAModel?) {
        self.visual = visual
        self.audio = audio
    }

    static let visualGroup = DatasetPath.modalities[0], audioGroup = DatasetPath.modalities[1]

    public static func read(_ path: String) throws -> SavedPCA {
        let file = try Artifact.open(path, as: .pca)
        defer { try? file.close() }
        guard let visual = try PCAModel.read(from: file, modality: visualGroup) else {
            throw GCMLError(file: path, object: "\(DatasetPath.visual)/\(DatasetPath.PCA.components)", expected: "a dataset", found: "nothing")
        }
        return SavedPCA(visual: visual, audio: try PCAModel.read(from: file, modality: audioGroup))
    }

    public func write(to file: HDF5File) throws {
        try visual.write(to: file.root, modality: Self.visualGroup)
        try audio?.write(to: file.root, modality: Self.audioGroup)
    }
}
