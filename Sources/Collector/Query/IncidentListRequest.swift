import CollectorStorage
import ExecEvents

/// The parameters of `GET /api/v1/incidents` and `GET /`: `hostName`, `ruleId`, `since`, `limit`,
/// `cursor`, `sort` (`lastSeen`, the default, or `severity`). An empty value (as an HTML form sends
/// for an empty field) is the same as none.
public struct IncidentListRequest: Sendable, Equatable {
    public static let parameterNames = ["hostName", "ruleId", "since", "limit", "cursor", "sort"]
    public static let defaultLimit = 100
    public static let maximumLimit = 1000

    public var hostName: String?
    public var ruleId: String?
    /// `since` as given (an age stays an age in the next page's link).
    public var since: String?
    public var limit = defaultLimit
    public var cursor: IncidentCursor?
    public var sort = IncidentSort.lastSeen
    /// The time `since` named when the request was read.
    public var sinceTime: EventTime?

    public init() {}

    /// Reads the query part of the URL (without `?`); a bad parameter is an error naming it.
    public init(query: String?, now: EventTime) throws(QueryParameterError) {
        var seen: Set<String> = []
        for (name, value) in QueryString.parse(query ?? "") {
            guard Self.parameterNames.contains(name) else {
                throw QueryParameterError(
                    "unknown parameter \"\(name.prefix(100))\"; known: \(Self.parameterNames.joined(separator: ", "))"
                )
            }
            guard seen.insert(name).inserted else { throw QueryParameterError("parameter \"\(name)\" is given twice") }
            guard !value.isEmpty else { continue }
            switch name {
            case "hostName": hostName = value
            case "ruleId": ruleId = value
            case "since":
                guard let time = SinceTime.parse(value, now: now) else {
                    throw QueryParameterError("parameter \"since\": expected \(SinceTime.expected)")
                }
                since = value
                sinceTime = time
            case "limit":
                guard let number = Int(value), (1...Self.maximumLimit).contains(number) else {
                    throw QueryParameterError(
                        "parameter \"limit\": expected a whole number from 1 to \(Self.maximumLimit)"
                    )
                }
                limit = number
            case "sort":
                guard let sort = IncidentSort(rawValue: value) else {
                    throw QueryParameterError(
                        "parameter \"sort\": expected \(IncidentSort.allCases.map(\.rawValue).joined(separator: " or "))"
                    )
                }
                self.sort = sort
            default:
                guard let cursor = IncidentCursor(text: value) else {
                    throw QueryParameterError("parameter \"cursor\": not a cursor this server gave out")
                }
                self.cursor = cursor
            }
        }
        if let cursor, cursor.sort != sort {
            throw QueryParameterError("parameter \"cursor\": it continues a page sorted by \(cursor.sort.rawValue)")
        }
    }

    /// The store query.
    public var storeQuery: IncidentQuery {
        IncidentQuery(hostName: hostName, ruleId: ruleId, since: sinceTime, limit: limit, cursor: cursor, sort: sort)
    }

    /// The query string of the same filters starting at `cursor` (for "next page" links).
    public func queryString(cursor: IncidentCursor?) -> String {
        queryString(cursor: cursor, sort: sort)
    }

    /// The query string of the same filters, sorted by `sort`, from the first page.
    public func queryString(sortedBy sort: IncidentSort) -> String {
        queryString(cursor: nil, sort: sort)
    }

    private func queryString(cursor: IncidentCursor?, sort: IncidentSort) -> String {
        var pairs: [(name: String, value: String)] = []
        if let hostName { pairs.append(("hostName", hostName)) }
        if let ruleId { pairs.append(("ruleId", ruleId)) }
        if let since { pairs.append(("since", since)) }
        if limit != Self.defaultLimit { pairs.append(("limit", String(limit))) }
        if sort != .lastSeen { pairs.append(("sort", sort.rawValue)) }
        if let cursor { pairs.append(("cursor", cursor.description)) }
        return QueryString.encode(pairs)
    }
}

/// A query parameter that cannot be used (a 400): the reason names it.
public struct QueryParameterError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}
