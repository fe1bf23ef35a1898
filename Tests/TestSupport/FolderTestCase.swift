import Foundation
import XCTest

/// A test case with a fresh folder per test, removed afterwards.
open class FolderTestCase: XCTestCase {
    public var folder: String!

    open override func setUpWithError() throws { folder = try TemporaryFolder.make() }

    open override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    /// `name` inside this test's folder.
    public func path(_ name: String) -> String { folder + "/" + name }
}

public enum TemporaryFolder {
    /// A new, empty folder under the system's temporary folder.
    public static func make(_ prefix: String = "gcml-test") throws -> String {
        let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
