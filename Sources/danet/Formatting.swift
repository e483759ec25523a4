import DANetSupport
import Foundation

/// Number and table formatting for the CLI's human-readable output.
enum Format {
    /// `value` as indented JSON with sorted keys, as `inspect --json` and `info --json` print it.
    static func prettyJSON<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// 1234567 -> "1,234,567".
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return value < 0 ? "-" + result : result
    }

    /// Bytes in B, KB, MB or GB (powers of 1000, as file managers show them).
    static func bytes(_ count: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format1: value) + " " + units[unit]
    }

    /// Left-aligned columns separated by two spaces; the last column is right-aligned if numeric.
    static func table(_ rows: [[String]], rightAligned: Set<Int> = []) -> [String] {
        guard let columns = rows.map(\.count).max() else { return [] }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return rightAligned.contains(i) ? pad + cell : (i == row.count - 1 ? cell : cell + pad)
            }.joined(separator: "  ").trimmingTrailingSpaces
        }
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        String(self[..<(lastIndex(where: { $0 != " " }).map { index(after: $0) } ?? startIndex)])
    }

    /// Seconds with two decimals below 10 s, one above.
    init(seconds value: Double) {
        if value >= 10 {
            self.init(format1: value)
        } else {
            let hundredths = Int((value * 100).rounded())
            self = "\(hundredths / 100)." + String(hundredths % 100).leftPadded(to: 2)
        }
    }

    /// One decimal place without Foundation's formatter.
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }
}
