import PackagePlugin

/// Compiles the eBPF exec probe (`Probe/exec_probe.bpf.c` in the target) with the Swift
/// toolchain's clang (`-target bpf`, CO-RE, against libbpf's headers), strips its DWARF (the BTF
/// stays: libbpf needs it), and embeds the object in a generated Swift file (`execProbeObject`), so
/// the normal `swift build` builds the probe from source and nothing compiled is committed.
@main
struct ExecProbeBuilder: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let probeDirectory = target.directoryURL.appending(path: "Probe")
        let source = probeDirectory.appending(path: "exec_probe.bpf.c")
        let header = probeDirectory.appending(path: "exec_probe_kernel.h")
        let work = context.pluginWorkDirectoryURL
        let object = work.appending(path: "exec_probe.bpf.o")
        let stripped = work.appending(path: "exec_probe.o")
        let generated = work.appending(path: "ExecProbeObject.swift")
        let clang = try context.tool(named: "clang").url
        let objcopy = try context.tool(named: "llvm-objcopy").url
        let embedder = try context.tool(named: "ProbeObjectEmbedder").url
        return [
            .buildCommand(
                displayName: "Compiling the eBPF exec probe",
                executable: clang,
                arguments: [
                    "-target", "bpf", "-O2", "-g", "-Wall", "-Werror", "-Wno-default-const-init-var-unsafe",
                    "-I", probeDirectory.path(), "-I", "/usr/include",
                    "-c", source.path(), "-o", object.path(),
                ],
                inputFiles: [source, header],
                outputFiles: [object]
            ),
            .buildCommand(
                displayName: "Stripping the eBPF exec probe's DWARF (keeping BTF)",
                executable: objcopy,
                arguments: ["--strip-debug", object.path(), stripped.path()],
                inputFiles: [object],
                outputFiles: [stripped]
            ),
            .buildCommand(
                displayName: "Embedding the eBPF exec probe",
                executable: embedder,
                arguments: [stripped.path(), generated.path(), "execProbeObject"],
                inputFiles: [stripped],
                outputFiles: [generated]
            ),
        ]
    }
}
