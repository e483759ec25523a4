extension String {
    /// Control characters as `\n`, `\t` or `\u{..}`, so that text taken from a file stays on one line.
    package var escapingControlCharacters: String {
        guard unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return self }
        var result = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// The string padded on the left with `pad` to `width` characters.
    package func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

/// An error's one line: `file: message`, or the message alone without a file, with control
/// characters (from file or key names) escaped.
package func errorLine(file: String, _ message: String) -> String {
    (file.isEmpty ? message : "\(file): \(message)").escapingControlCharacters
}

/// The product of `shape`, or nil when it overflows.
package func elementCount(of shape: [Int]) -> Int? {
    var count = 1
    for size in shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: size)
        if overflow { return nil }
        count = product
    }
    return count
}

/// `[1, 3, 224, 224]`, as error messages show a shape.
package func shapeText(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
