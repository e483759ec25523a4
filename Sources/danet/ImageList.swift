import DANetModel
import Foundation

/// The images named on the command line: files as given, folders searched recursively, sorted.
enum ImageList {
    struct Item {
        let path: String
        /// Output name without extension, relative to the folder argument it came from.
        let relativeStem: String
    }

    static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    static func collect(_ arguments: [String]) throws -> [Item] {
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
        return items
    }
}
