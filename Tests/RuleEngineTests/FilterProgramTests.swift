import ExecEvents
import Testing

@testable import RuleEngine

/// The engine evaluates each rule's filter as a flat program (``FilterPrograms``); these tests
/// compare it with the filter tree it was lowered from, over random trees and events.
@Suite struct FilterProgramTests {
    /// Leaves that hold for some of the events below and not for others: Sigma tests of each kind
    /// of pattern, and conditions of the rule language.
    private static let leaves: [FilterNode] = {
        func sigma(_ field: String, _ attributes: [EventAttribute], _ value: String) -> FilterNode {
            let pattern = SigmaPattern(tokens: SigmaPattern.tokens(of: value), cased: false)
            return .sigma(SigmaFieldTest(field: field, attributes: attributes, test: .pattern(pattern)))
        }
        let image: [EventAttribute] = [.invokedPath, .exePath]
        return [
            sigma("Image", image, "*/nc"),
            sigma("Image", image, "*/bash"),
            sigma("CommandLine", [.args], "* -e *"),
            sigma("CommandLine", [.args], "*/tmp/*"),
            sigma("CurrentDirectory", [.cwd], "/"),
            .sigma(SigmaFieldTest(field: "User", attributes: [.user], test: .isNull)),
            .compare(.procName, .equal, FilterConstant(text: "nc", isQuoted: true)),
            .inList(.procName, negated: true, [FilterConstant(text: "bash", isQuoted: true)]),
            .contain(.args, negated: false, FilterConstant(text: "-l", isQuoted: true)),
            .isNull(.cwd, negated: false),
        ]
    }()

    private static let events: [ExecEvent] = {
        let time = EventTime(millisecondsSinceEpoch: 1_700_000_000_000)
        return [
            ExecEvent(
                eventTime: time,
                hostName: "h",
                user: "root",
                procName: "nc",
                invokedPath: "/usr/bin/nc",
                exePath: "/usr/bin/nc.openbsd",
                cwd: "/",
                args: [Array("nc".utf8), Array("-e".utf8), Array("/bin/sh".utf8)]
            ),
            ExecEvent(
                eventTime: time,
                hostName: "h",
                procName: "bash",
                invokedPath: "/bin/bash",
                exePath: "/usr/bin/bash",
                args: [Array("bash".utf8), Array("/tmp/x -l".utf8)]
            ),
            ExecEvent(eventTime: time, hostName: "h", procName: "true"),
        ]
    }()

    /// A random tree of `and`, `or` (empty ones too) and `not` over the leaves.
    private func randomNode(depth: Int, _ generator: inout some RandomNumberGenerator) -> FilterNode {
        let choice = depth == 0 ? 3 : Int.random(in: 0...3, using: &generator)
        switch choice {
        case 0:
            return .and(
                (0..<Int.random(in: 0...4, using: &generator)).map { _ in randomNode(depth: depth - 1, &generator) }
            )
        case 1:
            return .or(
                (0..<Int.random(in: 0...4, using: &generator)).map { _ in randomNode(depth: depth - 1, &generator) }
            )
        case 2: return .not(randomNode(depth: depth - 1, &generator))
        default: return Self.leaves.randomElement(using: &generator)!
        }
    }

    @Test func aProgramHoldsExactlyWhenItsTreeDoes() {
        var generator = SystemRandomNumberGenerator()
        var filters: [FilterExpression] = []
        for _ in 0..<400 {
            filters.append(
                FilterExpression(
                    root: randomNode(depth: Int.random(in: 0...5, using: &generator), &generator),
                    text: ""
                )
            )
        }
        let programs = FilterPrograms(filters)
        var outcomes = Set<Bool>()
        for event in Self.events {
            for (number, filter) in filters.enumerated() {
                var subject = FilterSubject(event)
                let expected = filter.matches(event)
                #expect(programs.matches(number, &subject) == expected, "\(filter.description)")
                outcomes.insert(expected)
            }
        }
        #expect(outcomes == [true, false])
    }

    @Test func constantFiltersAndEveryLeafAlone() {
        let filters =
            [FilterNode.and([]), .or([]), .not(.and([])), .not(.or([]))].map { FilterExpression(root: $0, text: "") }
            + Self.leaves.map { FilterExpression(root: $0, text: "") }
            + Self.leaves.map { FilterExpression(root: .not($0), text: "") }
        let programs = FilterPrograms(filters)
        for event in Self.events {
            for (number, filter) in filters.enumerated() {
                var subject = FilterSubject(event)
                #expect(programs.matches(number, &subject) == filter.matches(event), "\(filter.description)")
            }
        }
    }
}
