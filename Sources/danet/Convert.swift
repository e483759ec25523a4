import ArgumentParser
import DANetSupport
import DANetModel
import Foundation
import TorchArchive

/// `danet convert IN OUT.safetensors`: the state dict as a safetensors file any tool can read;
/// `danet convert IN OUT.danet`: the DANet as danet runs it, a native model file.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a PyTorch checkpoint to safetensors, or a DANet to a native model file (.danet).",
        discussion: """
            OUT.safetensors: writes the state dict (found inside 'state_dict', 'model_state_dict', \
            'model_state', 'state_dict_ema', 'ema_state_dict', 'params_ema', 'model', 'module' or 'net' \
            wrappers; a file that is one bare tensor writes it as 'tensor') with every tensor \
            contiguous and written once.

            OUT.danet: builds the DANet and writes it as it runs (batch norms folded, weights packed, \
            Winograd filters transformed, the configuration with --layer4-dilations and \
            --align-corners recorded); --weights then loads it in milliseconds, with logits \
            identical to the checkpoint's. It is a safetensors file any safetensors tool can list.

            The output appears only when complete; on any error an existing OUT is left as it was.
            """
    )

    enum TargetType: String, ExpressibleByArgument, CaseIterable {
        case f32, f16, bf16

        var dtype: DType {
            switch self {
            case .f32: .float32
            case .f16: .float16
            case .bf16: .bfloat16
            }
        }
    }

    @Argument(help: "The checkpoint to read.")
    var input: String

    @Argument(help: "The safetensors file to write.")
    var output: String

    @Option(help: "Store floating-point tensors as this type (default: as in the checkpoint).")
    var dtype: TargetType?

    @Option(help: "Remove this prefix from tensor names, e.g. 'module.'.")
    var stripPrefix: String?

    @Flag(help: "Write every tensor in the file (optimizer state too), named by its full path.")
    var all = false

    @Flag(help: "Refuse every global outside the allow list (tensor machinery, containers, known data classes).")
    var strict = false

    @OptionGroup var model: ModelOptions

    /// True when OUT names a native model file.
    var writesModelFile: Bool { output.hasSuffix(".danet") }

    func validate() throws {
        guard output != input else { throw ValidationError("OUT must differ from IN: converting in place would replace the input.") }
        if writesModelFile {
            for (given, flag) in [(dtype != nil, "--dtype"), (stripPrefix != nil, "--strip-prefix"), (all, "--all")] where given {
                throw ValidationError("\(flag) applies to OUT.safetensors; a .danet model file holds the DANet as it runs "
                    + "(--precision bf16 for bf16 weights)")
            }
        } else if model.layer4Dilations != nil || model.alignCorners != nil || model.precision != nil {
            throw ValidationError("--layer4-dilations, --align-corners and --precision apply to OUT.danet; "
                + "for safetensors the first two are read at load time, and --dtype converts tensors")
        }
    }

    func run() throws {
        try reportingErrors {
            let checkpoint = try Checkpoint(contentsOf: URL(fileURLWithPath: input), strict: strict)
            Safety.warnAboutUnknownCallables(checkpoint)
            if writesModelFile { return try writeModelFile(checkpoint) }
            let tensors = all ? checkpoint.tensors : try checkpoint.stateDict(stripPrefix: stripPrefix).tensors
            let items = tensors.map { named in
                let target = dtype.flatMap { named.tensor.dtype.isFloatingPoint ? $0.dtype : nil } ?? named.tensor.dtype
                // A file that is one bare tensor names it by its position: the empty string.
                return SafetensorsWriter.Item(name: named.name.isEmpty ? "tensor" : named.name, dtype: target, shape: named.tensor.shape) {
                    try named.tensor.bytes(as: target)
                }
            }
            var metadata = ["format": "pt", "source": String(input.split(separator: "/").last ?? ""), "source_format": checkpoint.format.rawValue]
            if !checkpoint.stateDictPath.isEmpty && !all { metadata["source_state_dict"] = checkpoint.stateDictPath }
            // A DANet's configuration goes along, so the converted file runs as the original did.
            if !all, let danet = try? DANetConfiguration.detect(checkpoint) {
                metadata.merge(danet.metadata) { _, new in new }
            }
            var bar = ProgressBar(label: "converting", total: items.count)
            try SafetensorsWriter.write(items, metadata: metadata, to: URL(fileURLWithPath: output)) { done, _ in bar.update(done) }
            let bytes = items.reduce(0) { $0 + ($1.byteCount ?? 0) }
            let source = all || checkpoint.stateDictPath.isEmpty ? "" : " from '\(checkpoint.stateDictPath)'"
            print("wrote \(output): \(items.count) tensors, \(Format.bytes(bytes))\(source) of \(input) (\(checkpoint.format.rawValue))")
        }
    }

    /// Builds the DANet of `checkpoint` and writes it as a native model file.
    private func writeModelFile(_ checkpoint: Checkpoint) throws {
        let start = Platform.monotonicSeconds()
        // Built in the precision asked for whatever this CPU runs (packing needs no bf16
        // instructions), so a bf16 file can be made anywhere.
        let network = try DANet.forModelFile(checkpoint: checkpoint, layer4Dilations: model.layer4Dilations,
                                             alignCorners: model.alignCorners, precision: model.precision, threads: model.threads)
        let built = Platform.monotonicSeconds() - start
        var bar = ProgressBar(label: "writing", total: 1)
        let source = String(input.split(separator: "/").last ?? "")
        try network.writeModelFile(to: URL(fileURLWithPath: output), source: source) { done, total in
            bar.total = total
            bar.update(done)
        }
        let c = network.configuration
        let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
        print("wrote \(output): DANet-R\(c.depth) (\(c.layout.rawValue), \(c.classes) classes, layer4 dilations "
            + "\(c.layer4Dilations.map(String.init).joined(separator: "/")), align_corners \(c.alignCorners)), "
            + "\(network.precision.rawValue) weights, \(Format.bytes(size)), built from \(input) in \(String(seconds: built)) s")
    }
}
