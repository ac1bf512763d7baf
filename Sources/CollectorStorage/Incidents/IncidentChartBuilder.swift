/// The statement both stores run for ``CollectorStore/incidentChart(_:)``, and the chart built
/// from its rows.
///
/// One statement: the incidents of the range (by `first_seen`, indexed) and the filters; the
/// `maximumSeries` keys with the most of them; then a count per (bucket, key), every other key
/// counted under NULL. It returns at most `buckets × (maximumSeries + 1)` rows.
struct IncidentChartBuilder {
    /// A parameter of the statement.
    enum Parameter: Equatable {
        case integer(Int64)
        case text(String)
    }

    let query: IncidentChartQuery
    private var counts: [String?: [Int]] = [:]

    init(_ query: IncidentChartQuery) {
        self.query = query
    }

    /// The statement, with parameter `n` (1-based) written as `placeholder(n, isInteger)`; and
    /// its parameters in order.
    func statement(placeholder: (Int, Bool) -> String) -> (sql: String, parameters: [Parameter]) {
        var parameters: [Parameter] = [
            .integer(query.start.millisecondsSinceEpoch),
            .integer(query.endMilliseconds),
            .integer(query.bucketMilliseconds),
            .integer(Int64(query.maximumSeries)),
        ]
        var conditions = ["first_seen >= \(placeholder(1, true))", "first_seen < \(placeholder(2, true))"]
        if let hostName = query.hostName {
            parameters.append(.text(hostName))
            conditions.append("host_name = \(placeholder(parameters.count, false))")
        }
        if let ruleId = query.ruleId {
            parameters.append(.text(ruleId))
            conditions.append("rule_id = \(placeholder(parameters.count, false))")
        }
        let column = query.series == .rule ? "rule_id" : "host_name"
        let sql = """
            WITH ranged AS (
                SELECT \(column) AS series_key, first_seen FROM incidents
                WHERE \(conditions.joined(separator: " AND "))
            ), top_series AS (
                SELECT series_key FROM ranged GROUP BY series_key
                ORDER BY count(*) DESC, series_key LIMIT \(placeholder(4, true))
            )
            SELECT (first_seen - \(placeholder(1, true))) / \(placeholder(3, true)) AS bucket,
                CASE WHEN series_key IN (SELECT series_key FROM top_series) THEN series_key END AS series,
                count(*) AS incidents
            FROM ranged GROUP BY 1, 2
            """
        return (sql, parameters)
    }

    /// Adds one row: `count` incidents of `key` (nil: the others) in `bucket`.
    mutating func add(bucket: Int64, key: String?, count: Int64) {
        guard bucket >= 0, bucket < Int64(query.buckets) else { return }
        counts[key, default: Array(repeating: 0, count: query.buckets)][Int(bucket)] += Int(count)
    }

    /// The chart: named series by total descending (ties: by key), the others last.
    var chart: IncidentChart {
        var named = counts.compactMap { key, counts in key.map { IncidentChartSeries(key: $0, counts: counts) } }
        named.sort { $0.total != $1.total ? $0.total > $1.total : ($0.key ?? "") < ($1.key ?? "") }
        if let others = counts[nil] {
            named.append(IncidentChartSeries(key: nil, counts: others))
        }
        return IncidentChart(query: query, series: named)
    }
}
