import TensorKernels

/// The arithmetic of a model's products.
///
/// `bf16` rounds the weights and the activations that enter a convolution's product, and the two
/// operands of the position attention's product V Sᵀ, to bfloat16 (round to nearest, ties to even)
/// and sums the products in f32; everything else (batch norms folded into f32 biases, additions,
/// ReLU, the attention energies and softmax, the channel attention, upsampling) stays f32. It runs on CPUs with bf16 product instructions: AVX512_BF16 on x86-64
/// (AMD Zen 4 and later, Intel Cooper Lake, Sapphire Rapids and later) and BF16 on ARM64 (Armv8.6:
/// AWS Graviton 3 and 4, Neoverse V1 and V2, Apple M2 and later); elsewhere a model asked for bf16
/// runs f32 and says why in `DANet.precisionNote`.
public enum Precision: String, Sendable, CaseIterable, Codable {
    /// f32 weights, activations and products: PyTorch's default.
    case f32
    /// bf16 weights and product operands, f32 sums and everything else.
    case bf16

    /// What runs when `requested` is asked for on these kernels and GEMM backend, and why that
    /// differs when it does.
    static func resolve(_ requested: Precision, kernels: CPUKernels = .selected,
                        backend: Gemm.Backend = Gemm.backend) -> (Precision, note: String?) {
        guard requested == .bf16 else { return (.f32, nil) }
        guard let reason = bf16Unavailable(kernels: kernels, backend: backend) else { return (.bf16, nil) }
        return (.f32, "bf16 was asked for, f32 runs: " + reason)
    }

    /// Why bf16 products cannot run on these kernels and GEMM backend, or nil when they can.
    package static func bf16Unavailable(kernels: CPUKernels = .selected, backend: Gemm.Backend = Gemm.backend) -> String? {
        if backend == .openBLAS { return "DANET_GEMM=openblas has no bf16 products" }
        if kernels.hasNativeBF16 { return nil }
        // The portable bf16 products run only when the portable kernels are asked for by name: the
        // reference the tests compare with, far too slow to fall into by accident.
        if kernels.isa == .generic, CPUKernels.requestedISA == CPUKernels.ISA.generic.rawValue, kernels.hasBF16Products {
            return nil
        }
        let best = CPUReport.current.best
        if let requested = CPUKernels.requestedISA, CPUKernels(best)?.hasNativeBF16 == true {
            return "DANET_ISA=\(requested) leaves out the bf16 products this CPU has (\(best.rawValue))"
        }
        return "this CPU has no bf16 product instructions (AVX512_BF16 on x86-64, BF16 on ARM64)"
    }
}

/// How a DANet's convolutions run in bf16, decided from measurements (README, "bf16"): every
/// convolution's products in bf16, as the products' share of the time asks. Keeping the query and
/// key convolutions in f32 changed no prediction of the bundled model; the 3x3 convolutions'
/// Winograd tile is what moved the error. (The attention: `PositionAttention.bf16Product`.)
enum BF16Layers {
    /// The element a convolution's weights are stored in for `precision`; `tile` is its Winograd
    /// tile, if any. F(4x4, 3x3) stays f32: its transforms (entries up to 8) make the bf16 rounding
    /// of its transformed inputs several percent of a layer's output. It runs only where a model
    /// file written in f32 is loaded in bf16; bf16 models use F(2x2, 3x3) (`tile(_:default:)`).
    static func element(_ precision: Precision, tile: Winograd.Tile?) -> PackedMatrix.Element {
        precision == .bf16 && tile != .f4x4 ? .bfloat16 : .float32
    }

    /// The Winograd tile of a 3x3 stride-1 convolution running in `precision` whose f32 tile is
    /// `tile`: F(2x2, 3x3) in bf16, for the head too (whose f32 tile is F(4x4)).
    static func tile(_ precision: Precision, default tile: Winograd.Tile) -> Winograd.Tile {
        precision == .bf16 ? .f2x2 : tile
    }
}
