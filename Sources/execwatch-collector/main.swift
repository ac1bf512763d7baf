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
exit(await CommandLineRunner.run(Array(CommandLine.arguments.dropFirst())))
