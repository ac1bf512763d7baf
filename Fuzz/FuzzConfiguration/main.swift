// Configuration files: the agent's agent.yaml and the collector's collector.yaml (read through
// the YAML module). Errors must name file:line:col inside the text.
import Agent
import Collector
import ConfigurationFiles
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = FuzzInput(data, size).text
    do {
        _ = try AgentConfigurationLoader.load(yaml: text, file: "agent.yaml")
    } catch {
        _ = error.description
    }
    do {
        _ = try CollectorConfigurationLoader.load(yaml: text, file: "collector.yaml")
    } catch {
        _ = error.description
    }
    return 0
}

FuzzDriver.run(testOneInput)
