import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files named by a path or a shell glob pattern (`*`, `?`, `[...]`), shared by the inputs that
/// accept several files (TFRecord shards, interaction logs).
public enum FilePattern {
    /// `pattern` itself when it holds no wildcard (it must be readable), else its matches, sorted.
    /// - Parameters:
    ///   - origin: where the pattern came from (named in errors).
    ///   - expected: what one file should be (named in errors), e.g. "a readable TFRecord shard".
    public static func expand(_ pattern: String, origin: String, expected: String) throws -> [String] {
        let isPattern = pattern.contains(where: { "*?[".contains($0) })
        if !isPattern {
            guard access(pattern, R_OK) == 0 else {
                throw GCMLError(file: pattern, object: origin, expected: expected, found: String(cString: strerror(errno)))
            }
            return [pattern]
        }
        var matches = glob_t()
        defer { globfree(&matches) }
        let status = glob(pattern, 0, nil, &matches)
        guard status == 0 else {
            throw GCMLError(file: pattern, object: origin, expected: "at least one file matching the pattern", found: "none")
        }
        var result: [String] = []
        for i in 0..<Int(matches.gl_pathc) {
            if let p = matches.gl_pathv[i] { result.append(String(cString: p)) }
        }
        return result.sorted()
    }
}
