import Collector
import Logging
import ServiceLogging

#if canImport(Glibc)
import Glibc
#endif

LoggingSystem.bootstrap { label in
    var handler = JournaldLogHandler(label: label)
    handler.logLevel = CollectorLogLevel.fromEnvironment
    return handler
}
let arguments = Array(CommandLine.arguments.dropFirst())
exit(BlockingAsyncMain.run { [arguments] in await CommandLineRunner.run(arguments) })
