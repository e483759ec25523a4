import ArgumentParser
import DANetModel
import DANetSupport
import Foundation
import TensorKernels
import TorchArchive

/// `danet infer`: a normalised input tensor in, the three DANet logits out.
struct Infer: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run DANet on a normalised input tensor and write its logits.",
        discussion: """
            IN.safetensors holds 'input', float32 [N, 3, H, W], already normalised; any H and W. \
            OUT.safetensors receives 'logits' (fused, conv8), 'pam_logits' (conv6) and 'cam_logits' \
            (conv7), each [N, classes, H, W]; with --heads fused, 'logits' alone, the one output \
            prediction uses. The model's layout, depth, stem and classes are read from the weights.
            """
    )

    @Option(help: "The checkpoint: .pth, .pth.tar, .pt or a safetensors file from `danet convert`.")
    var weights: String

    @Option(help: "Safetensors file with the tensor 'input'.")
    var input: String

    @Option(help: "Safetensors file to write.")
    var output: String

    @Option(help: "Which logits to compute and write: all three heads, or the fused one only.")
    var heads: HeadChoice = .all

    @OptionGroup var model: ModelOptions

    enum HeadChoice: String, ExpressibleByArgument, CaseIterable {
        case all
        case fused

        var model: DANet.Heads { self == .all ? .all : .fused }
    }

    func run() throws {
        try reportingErrors {
            let loadStart = Platform.monotonicSeconds()
            let network = try model.load(weights)
            let loadSeconds = Platform.monotonicSeconds() - loadStart
            let tensor = try Infer.readInput(input)
            var bar = ProgressBar(label: "inferring", total: tensor.shape[0])
            let start = Platform.monotonicSeconds()
            var outputs: [DANet.Output] = []
            for n in 0..<tensor.shape[0] {
                let image = try Tensor(shape: [1] + tensor.shape.dropFirst(), data: Array(tensor.data[(n * tensor.imageSize)..<((n + 1) * tensor.imageSize)]))
                outputs.append(try network(image, heads: heads.model))
                bar.update(n + 1)
            }
            let seconds = Platform.monotonicSeconds() - start
            func joined(_ pick: (DANet.Output) -> Tensor) throws -> Tensor {
                let parts = outputs.map(pick)
                guard parts.count > 1 else { return parts[0] }
                return try Tensor(shape: [parts.count] + parts[0].shape.dropFirst(), data: parts.flatMap(\.data))
            }
            let results = [("logits", try joined(\.fused))]
                + (heads == .all ? [("pam_logits", try joined(\.position)), ("cam_logits", try joined(\.channel))] : [])
            let items = results.map { name, tensor in
                SafetensorsWriter.Item(name: name, dtype: .float32, shape: tensor.shape) { tensor.data.withUnsafeBytes { Array($0) } }
            }
            try SafetensorsWriter.write(items, metadata: network.configuration.metadata, to: URL(fileURLWithPath: output))
            let c = network.configuration
            print("wrote \(output): logits \(results[0].1.shape) from DANet-R\(c.depth) (\(c.layout.rawValue), \(c.stem.rawValue) stem, "
                + "\(c.classes) classes, layer4 dilations \(c.layer4Dilations.map(String.init).joined(separator: "/")), "
                + "align_corners \(c.alignCorners)) in \(String(seconds: seconds)) s on \(network.threads ?? DANet.availableThreads) threads "
                + "(\(network.precision.rawValue) products, \(Gemm.backendDescription) GEMM, \(CPUKernels.selected.isa.rawValue) kernels) "
                + "(weights loaded in \(String(seconds: loadSeconds)) s\(network.isModelFile ? " from a model file" : ""))")
        }
    }

    /// The tensor 'input' of a safetensors (or any checkpoint) file, as float32 [N, 3, H, W].
    static func readInput(_ path: String) throws -> Tensor {
        let checkpoint = try Checkpoint(contentsOf: URL(fileURLWithPath: path))
        guard let named = checkpoint.tensors.first(where: { $0.name == "input" }) else {
            throw ModelError(.invalidInput, file: path,
                             "expected a tensor named 'input', found \(checkpoint.tensors.prefix(5).map { "'\($0.name)'" }.joined(separator: ", "))")
        }
        let shape = named.tensor.shape
        guard shape.count == 4, shape[1] == 3, shape.allSatisfy({ $0 > 0 }) else {
            throw ModelError(.invalidInput, file: path, "tensor 'input': expected shape [N, 3, H, W], found \(shape)")
        }
        guard named.tensor.dtype.isFloatingPoint else {
            throw ModelError(.invalidInput, file: path, "tensor 'input': expected float32, found \(named.tensor.dtype.torchName)")
        }
        return try Tensor(shape: shape, data: try named.tensor.floats())
    }
}

/// Options every command that runs the model takes.
struct ModelOptions: ParsableArguments {
    @Option(help: "Layer-4 dilations, e.g. 4,8,16 (official default) or 2,4,4 (mmseg default).",
            transform: { text in
                let values = text.split(separator: ",").map { Int($0.filter { $0 != " " }) }
                guard values.count == 3, let parsed = values as? [Int], parsed.allSatisfy({ $0 >= 1 }) else {
                    throw ValidationError("--layer4-dilations takes three positive integers like 4,8,16; found '\(text)'")
                }
                return parsed
            })
    var layer4Dilations: [Int]?

    @Option(help: "Upsample logits with align_corners (true: official default; false: mmseg default).")
    var alignCorners: Bool?

    @Option(help: ArgumentHelp("""
        f32, or bf16: weights and product operands rounded to bfloat16; sums, attention energies and softmax in f32 \
        (default: f32, or bf16 for a .danet file converted with --precision bf16). bf16 runs on CPUs with \
        AVX512_BF16 or ARM64 BF16; elsewhere f32 runs and a line on stderr says so. With convert: the \
        precision of OUT.danet's weights.
        """, valueName: "f32|bf16"))
    var precision: Precision?

    @Option(help: "Threads for the kernels (default: the CPUs this process may use, by its affinity and cgroup CPU limit).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, found \(threads)") }
    }

    /// Loads the model with the thread count given (default: every CPU the process may use);
    /// reports a misspelt `DANET_ISA` first.
    func load(_ weights: String?) throws -> DANet {
        try load(try checkpoint(weights), alignCorners: nil)
    }

    /// The checkpoint at `weights`, or the bundled model's.
    func checkpoint(_ weights: String?) throws -> Checkpoint {
        warnAboutRequestedISA()
        guard let weights else { return try DANet.bundledCheckpoint() }
        let checkpoint = try Checkpoint(contentsOf: URL(fileURLWithPath: weights))
        Safety.warnAboutUnknownCallables(checkpoint)
        return checkpoint
    }

    /// The model of `checkpoint` with these options; `--align-corners`, when given, wins over
    /// `alignCorners`, which wins over the layout's default. When the precision asked for cannot
    /// run, one line on stderr says what runs and why.
    func load(_ checkpoint: Checkpoint, alignCorners fallback: Bool?) throws -> DANet {
        let network = try DANet(checkpoint: checkpoint, layer4Dilations: layer4Dilations, alignCorners: alignCorners ?? fallback,
                                precision: precision, threads: threads)
        if let note = network.precisionNote { Terminal.standardError("danet: \(note)") }
        return network
    }

    private func warnAboutRequestedISA() {
        if let requested = CPUKernels.requestedISA, CPUKernels.ISA(rawValue: requested) == nil {
            Terminal.standardError("danet: warning: DANET_ISA=\(requested) is not one of "
                + CPUKernels.ISA.allCases.map(\.rawValue).joined(separator: ", ") + "; running the generic kernels")
        }
    }
}

extension Precision: ExpressibleByArgument {}
