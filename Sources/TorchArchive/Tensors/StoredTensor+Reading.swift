import DANetSupport

extension StoredTensor {
    /// The tensor's elements in C order, in its own dtype, little-endian.
    /// - Throws: `ArchiveError` if the storage bytes cannot be produced.
    public func contiguousBytes() throws -> [UInt8] {
        let region = try storage.bytes()
        let size = dtype.byteSize
        return region.withUnsafeBytes { source in
            [UInt8](unsafeUninitializedCapacity: byteCount) { destination, initialized in
                guard let out = destination.baseAddress, let base = source.baseAddress else {
                    initialized = 0
                    return
                }
                DANetSupport.Platform.adviseHugePages(UnsafeMutableRawPointer(out), bytes: byteCount)
                if isContiguous {
                    UnsafeMutableRawPointer(out).copyMemory(from: base + storageOffset * size, byteCount: byteCount)
                } else {
                    var position = 0
                    forEachElementOffset { offset in
                        UnsafeMutableRawPointer(out + position).copyMemory(from: base + offset * size, byteCount: size)
                        position += size
                    }
                }
                if storage.bigEndian { StoredTensor.swapBytes(out, count: byteCount, unit: dtype.swapUnit) }
                initialized = byteCount
            }
        }
    }

    /// The tensor converted to Float32 in C order.
    /// - Throws: `ArchiveError.unsupported` for complex tensors, or if the storage cannot be read.
    public func floats() throws -> [Float] {
        guard !dtype.isComplex else {
            throw ArchiveError(.unsupported, location: "storage '\(storage.key)'", expected: "a real tensor to convert to float32", found: dtype.torchName)
        }
        if isContiguous && !storage.bigEndian {
            let region = try storage.bytes()
            return region.withUnsafeBytes { source in
                StoredTensor.convert(source.baseAddress.map { $0 + storageOffset * dtype.byteSize }, count: elementCount, from: dtype)
            }
        }
        let bytes = try contiguousBytes()
        return bytes.withUnsafeBytes { StoredTensor.convert($0.baseAddress, count: elementCount, from: dtype) }
    }

    /// Calls `body` with the tensor's elements as contiguous float32, without a copy when the file
    /// already stores them so (float32, little-endian, contiguous, 4-byte aligned: every stored zip
    /// entry of torch.save); otherwise converted into a temporary array first.
    /// - Throws: what `floats()` throws, or what `body` throws.
    public func withFloats<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        if dtype == .float32 && isContiguous && !storage.bigEndian {
            let region = try storage.bytes()
            let direct: R?? = try region.withUnsafeBytes { bytes -> R?? in
                guard let base = bytes.baseAddress, Int(bitPattern: base + storageOffset * 4) % MemoryLayout<Float>.alignment == 0 else {
                    return .some(nil)
                }
                region.prefault()
                let floats = UnsafeRawPointer(base + storageOffset * 4).assumingMemoryBound(to: Float.self)
                return .some(try body(UnsafeBufferPointer(start: floats, count: elementCount)))
            }
            if case .some(.some(let result)) = direct { return result }
        }
        return try floats().withUnsafeBufferPointer(body)
    }

    /// Calls `body` with the storage offset (in elements) of every element, in C order.
    func forEachElementOffset(_ body: (Int) -> Void) {
        guard elementCount > 0 else { return }
        guard let innerSize = shape.last, let innerStride = strides.last else {
            body(storageOffset)  // 0-dim
            return
        }
        let outer = shape.count - 1
        var index = [Int](repeating: 0, count: outer)
        var base = storageOffset
        while true {
            var offset = base
            for _ in 0..<innerSize {
                body(offset)
                offset += innerStride
            }
            // Odometer step over the outer dimensions.
            var axis = outer - 1
            while axis >= 0 {
                index[axis] += 1
                base += strides[axis]
                if index[axis] < shape[axis] { break }
                base -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }

    static func swapBytes(_ pointer: UnsafeMutablePointer<UInt8>, count: Int, unit: Int) {
        guard unit > 1 else { return }
        var start = 0
        while start + unit <= count {
            var low = start, high = start + unit - 1
            while low < high {
                let byte = pointer[low]
                pointer[low] = pointer[high]
                pointer[high] = byte
                low += 1
                high -= 1
            }
            start += unit
        }
    }

    /// Converts `count` little-endian elements of `dtype` at `source` to Float32.
    static func convert(_ source: UnsafeRawPointer?, count: Int, from dtype: DType) -> [Float] {
        guard let source, count > 0 else { return [] }
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            DANetSupport.Platform.adviseHugePages(UnsafeMutableRawPointer(out.baseAddress!), bytes: count * 4)
            func each<T>(_: T.Type, _ transform: (T) -> Float) {
                for i in 0..<count { out[i] = transform(source.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)) }
            }
            switch dtype {
            case .float32:
                UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: source, byteCount: count * 4)
            case .float64: each(UInt64.self) { Float(Double(bitPattern: UInt64(littleEndian: $0))) }
            case .float16: each(UInt16.self) { Float(Float16(bitPattern: UInt16(littleEndian: $0))) }
            case .bfloat16: each(UInt16.self) { Float(bitPattern: UInt32(UInt16(littleEndian: $0)) << 16) }
            case .int64: each(UInt64.self) { Float(Int64(bitPattern: UInt64(littleEndian: $0))) }
            case .uint64: each(UInt64.self) { Float(UInt64(littleEndian: $0)) }
            case .int32: each(UInt32.self) { Float(Int32(bitPattern: UInt32(littleEndian: $0))) }
            case .uint32: each(UInt32.self) { Float(UInt32(littleEndian: $0)) }
            case .int16: each(UInt16.self) { Float(Int16(bitPattern: UInt16(littleEndian: $0))) }
            case .uint16: each(UInt16.self) { Float(UInt16(littleEndian: $0)) }
            case .int8: each(UInt8.self) { Float(Int8(bitPattern: $0)) }
            case .uint8: each(UInt8.self) { Float($0) }
            case .bool: each(UInt8.self) { $0 == 0 ? 0 : 1 }
            case .float8E4M3, .float8E4M3FNUZ, .float8E5M2, .float8E5M2FNUZ, .float8E8M0:
                let table = Float8.table(dtype)
                each(UInt8.self) { table[Int($0)] }
            case .complex64, .complex128:
                preconditionFailure("complex tensors are rejected before conversion")
            }
            initialized = count
        }
    }
}

/// Decoding of the 8-bit float formats PyTorch stores (OCP FP8 and the AMD "fnuz" variants).
enum Float8 {
    static func table(_ dtype: DType) -> [Float] {
        (0..<256).map { decode(UInt8($0), dtype) }
    }

    static func decode(_ bits: UInt8, _ dtype: DType) -> Float {
        if dtype == .float8E8M0 {
            return bits == 0xFF ? .nan : Float(sign: .plus, exponent: Int(bits) - 127, significand: 1)
        }
        let (mantissaBits, bias, unsignedZeroNaN, hasInfinity): (Int, Int, Bool, Bool) = switch dtype {
        case .float8E4M3: (3, 7, false, false)
        case .float8E4M3FNUZ: (3, 8, true, false)
        case .float8E5M2: (2, 15, false, true)
        default: (2, 16, true, false)  // float8_e5m2fnuz
        }
        if unsignedZeroNaN && bits == 0x80 { return .nan }
        let negative = bits & 0x80 != 0
        let exponentBits = 7 - mantissaBits
        let exponent = Int(bits >> UInt8(mantissaBits)) & ((1 << exponentBits) - 1)
        let mantissa = Int(bits) & ((1 << mantissaBits) - 1)
        let maxExponent = (1 << exponentBits) - 1
        if !unsignedZeroNaN && exponent == maxExponent {
            if hasInfinity {
                if mantissa == 0 { return negative ? -.infinity : .infinity }
                return .nan
            }
            if mantissa == (1 << mantissaBits) - 1 { return .nan }  // e4m3fn: only S.1111.111 is NaN
        }
        let fraction = Float(mantissa) / Float(1 << mantissaBits)
        let magnitude = exponent == 0
            ? fraction * Float(sign: .plus, exponent: 1 - bias, significand: 1)
            : (1 + fraction) * Float(sign: .plus, exponent: exponent - bias, significand: 1)
        return negative ? -magnitude : magnitude
    }
}
