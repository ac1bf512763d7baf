import ExecEvents
import RuleEngine
import Testing

/// Aggregate constraints, exercised through the engine (window 300 s, group by hostName).
@Suite struct AggregateTests {
    /// Feeds events with `n` values (extra attribute) and returns, per event, whether it triggered.
    private func triggers(_ aggregate: String, values: [AttributeValue?]) -> [Bool] {
        var e = engine([rule(filter: #"procName = "nc""#, aggregate: aggregate)])
        return values.enumerated().map { k, v in
            var extra: [String: AttributeValue] = [:]
            if let v { extra["n"] = v }
            return !e.process(exec(at: 1000 + Int64(k), extra: extra)).isEmpty
        }
    }

    @Test func countStar() {
        #expect(triggers("COUNT(*) >= 3", values: [nil, nil, nil, nil]) == [false, false, true, true])
        #expect(triggers("COUNT (*) > 1", values: [nil, nil]) == [false, true])
        #expect(triggers("COUNT(*) = 2", values: [nil, nil, nil]) == [false, true, false])
        #expect(triggers("COUNT(*) != 2", values: [nil, nil, nil]) == [true, false, true])
        #expect(triggers("COUNT(*) < 2", values: [nil, nil]) == [true, false])
        #expect(triggers("COUNT(*) <= 2", values: [nil, nil, nil]) == [true, true, false])
    }

    @Test func countDistinct() {
        let values: [AttributeValue?] = [.string("a"), .string("a"), nil, .string("b"), .string("c")]
        #expect(triggers("COUNT(DISTINCT n) >= 2", values: values) == [false, false, false, true, true])
        #expect(triggers("count(distinct n) = 3", values: values) == [false, false, false, false, true])
    }

    @Test func sumAvgMinMax() {
        let values: [AttributeValue?] = [.integer(5), .string("7"), .string("x"), .integer(-2)]
        #expect(triggers("SUM(n) >= 12", values: values) == [false, true, true, false])
        #expect(triggers("AVG(n) > 5.5", values: values) == [false, true, true, false])
        #expect(triggers("MIN(n) < 0", values: values) == [false, false, false, true])
        #expect(triggers("MAX(n) = 7", values: values) == [false, true, true, true])
        // No numeric value at all: the function has no value and comparisons are false.
        #expect(triggers("SUM(n) >= 0", values: [.string("x"), nil]) == [false, false])
    }

    @Test func andOrAndParentheses() {
        let values: [AttributeValue?] = [.string("a"), .string("a"), .string("b")]
        #expect(triggers("COUNT(*) >= 2 AND COUNT(DISTINCT n) >= 2", values: values) == [false, false, true])
        #expect(triggers("COUNT(*) >= 3 OR COUNT(DISTINCT n) >= 1", values: values) == [true, true, true])
        #expect(
            triggers("(COUNT(*) >= 3 OR COUNT(*) = 1) AND COUNT(DISTINCT n) = 1", values: values) == [
                true, false, false,
            ]
        )
    }

    @Test func canonicalFormAndAttributes() throws {
        let a = try AggregateExpression("count(*) >= 1 and (sum(x) > 2.5 or count(distinct user) = 2)")
        #expect(a.description == "COUNT(*) >= 1 AND (SUM(x) > 2.5 OR COUNT(DISTINCT user) = 2)")
        #expect(a.attributes.map(\.name) == ["x", "user"])
    }

    @Test func errors() throws {
        func failure(_ text: String) -> ExpressionError? {
            do {
                _ = try AggregateExpression(text)
                return nil
            } catch { return error }
        }
        let function = try #require(failure("TOTAL(*) >= 1"))
        #expect(function.offset == 0)
        #expect(function.message.hasPrefix("expected an aggregate function"))
        let op = try #require(failure("COUNT(*) => 1"))
        #expect(op.offset == 9)
        #expect(op.message.hasPrefix("unknown operator '=>'"))
        let number = try #require(failure("COUNT(*) >= many"))
        #expect(number.offset == 12)
        let distinct = try #require(failure("COUNT(user) >= 1"))
        #expect(distinct.message.hasPrefix("expected '*' or DISTINCT"))
    }
}
