import Foundation

extension URL {
    /// The path to name this file by in messages: as the caller wrote it when it was relative to
    /// the current folder (`URL(fileURLWithPath: "model.pth")` stays `model.pth`), else absolute.
    package var displayPath: String {
        guard let baseURL, !relativePath.hasPrefix("/") else { return path }
        return baseURL.standardizedFileURL.path == URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL.path
            ? relativePath : path
    }
}
