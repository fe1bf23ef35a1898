import Foundation
import Support

/// Where a report's files go: the Markdown at `reportPath`, `<name>.json` and the charts beside it,
/// each written atomically (a reader never sees half a file).
struct ReportFiles {
    let directory: String
    let reportName: String
    let jsonPath: String

    init(reportPath path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        directory = folder.isEmpty ? "." : folder
        reportName = (path as NSString).lastPathComponent
        jsonPath = ((path as NSString).deletingPathExtension) + ".json"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func save(_ text: String, _ name: String) throws {
        let target = (directory as NSString).appendingPathComponent(name)
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: target), options: .atomic)
        } catch {
            throw GCMLError("\(target): could not write: \(error.localizedDescription)")
        }
    }

    func saveJSON(_ object: [String: Any]) throws {
        do { try JSON.write(object, to: jsonPath) } catch { throw GCMLError("\(jsonPath): could not write: \(error.localizedDescription)") }
    }
}
