import DANetModel
import Foundation

/// The images named on the command line: files as given, folders searched recursively and sorted,
/// and the lines of `--list` files.
enum ImageList {
    struct Item: Equatable {
        let path: String
        /// Output name without extension: relative to the folder argument it came from, the file
        /// name for a file argument, the path as written (without a leading `./` or `/`) for a
        /// line of a list.
        let relativeStem: String
    }

    static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    static func collect(_ arguments: [String], lists: [String] = []) throws -> [Item] {
        var items: [Item] = []
        for argument in arguments {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder) else {
                throw ModelError(.invalidInput, file: argument, "expected an image or a folder, found no such file")
            }
            if isFolder.boolValue {
                let root = URL(fileURLWithPath: argument).standardizedFileURL
                let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
                var found: [Item] = []
                while let url = enumerator?.nextObject() as? URL {
                    guard extensions.contains(url.pathExtension.lowercased()) else { continue }
                    let relative = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
                    found.append(Item(path: url.path, relativeStem: (relative as NSString).deletingPathExtension))
                }
                items += found.sorted { $0.path < $1.path }
            } else {
                let name = URL(fileURLWithPath: argument).deletingPathExtension().lastPathComponent
                items.append(Item(path: argument, relativeStem: name))
            }
        }
        for list in lists {
            guard let data = FileManager.default.contents(atPath: list) else {
                throw ModelError(.invalidInput, file: list, "expected a readable list of image paths, found "
                                 + (FileManager.default.fileExists(atPath: list) ? "a file that cannot be read" : "no such file"))
            }
            for (number, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                guard !line.isEmpty, !line.hasPrefix("#") else { continue }
                var stem = (line as NSString).deletingPathExtension
                while stem.hasPrefix("./") { stem.removeFirst(2) }
                while stem.hasPrefix("/") { stem.removeFirst() }
                guard !stem.split(separator: "/").contains("..") else {
                    throw ModelError(.invalidInput, file: list, "line \(number + 1): expected a path without '..', found '\(line)'")
                }
                items.append(Item(path: line, relativeStem: stem))
            }
        }
        return items
    }

    /// Throws, naming both inputs, when two images would write the same output files.
    static func checkDistinctOutputs(_ items: [Item]) throws {
        var owner: [String: String] = [:]
        for item in items {
            if let other = owner[item.relativeStem] {
                throw ModelError(.invalidInput, file: item.path,
                                 "expected its own output name, found '\(item.relativeStem)' already taken by \(other) "
                                 + "(give the two in different folder arguments or rename one)")
            }
            owner[item.relativeStem] = item.path
        }
    }
}
