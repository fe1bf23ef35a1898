// libFuzzer entry point of the 'artifact' target (built by scripts/fuzz.sh, `make fuzz`).
import FuzzTargets

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.run("artifact", UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
