/// What every error of the package has in common: `description` is one line meant for a person,
/// naming the file, the place inside it (a record, key or tensor), what was expected there and what
/// was found, with any control characters taken from the file shown escaped.
///
/// The command-line tool prints exactly this line after `danet: error: `. Catch this protocol to
/// handle every error of the package in one place:
///
/// ```swift
/// do {
///     let model = try DANet(contentsOf: url)
/// } catch let error as any DANetError {
///     print(error.description)
/// }
/// ```
public protocol DANetError: Error, CustomStringConvertible, Sendable {
    /// The file the error concerns, as the caller named it, or "" when no file is involved.
    var file: String { get }
}
