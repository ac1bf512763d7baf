"""Events made from a Sigma rule's own detection values, for the differential test.

For one rule: events that satisfy its condition (every value of every list at least once, each
selection alternative), events that satisfy a negated part too (the filters' own values), and from
each matching event one-change variants: one character removed or changed, case variants, other
expansions of `*` and `?`, the value at the very start or end of the field, the field empty or
absent, `Image` found only in the invoked path or only in the resolved one. Generation reads the
rule with PyYAML and the Sigma value syntax by the specification (escapes `\\*`, `\\?`, `\\\\`), not
through pySigma, so it does not share the oracle's reading of the rule.

An event is a dict of Sigma field names (`Image` is two: `invokedPath`, `exePath`); `as_exec_event`
makes execwatch's JSON event from it, `as_row` the SQL row.
"""
import random
import re
import re._parser as sre_parse  # the regex parser of CPython's `re`, used to write a matching string

SIGMA_FIELDS = ["Image", "CommandLine", "ParentImage", "ParentCommandLine", "User", "CurrentDirectory", "LogonId",
                "ProcessId", "ParentProcessId"]
# Each Sigma field as an event attribute (Image: the invoked path OR the resolved executable).
EVENT_ATTRIBUTE = {"ParentImage": "parentExePath", "ParentCommandLine": "parentCommandLine", "User": "user",
                   "CurrentDirectory": "cwd", "LogonId": "auid", "ProcessId": "procId",
                   "ParentProcessId": "parentProcId"}
NUMERIC = {"LogonId", "ProcessId", "ParentProcessId"}
ROW_COLUMNS = ["invokedPath", "exePath", "CommandLine", "ParentImage", "ParentCommandLine", "User", "CurrentDirectory",
               "LogonId", "ProcessId", "ParentProcessId"]
DEFAULTS = {"invokedPath": "/usr/bin/true", "exePath": "/usr/bin/true", "CommandLine": "true --version",
            "ParentImage": "/usr/bin/bash", "ParentCommandLine": "-bash", "User": "alice",
            "CurrentDirectory": "/home/alice", "LogonId": 1000, "ProcessId": 4242, "ParentProcessId": 4241}
MAX_EVENTS_PER_RULE = 900
STAR_EXPANSIONS = ["", "x", "/Ab c/"]


class Unsupported(Exception):
    """The rule uses something this generator does not make events for (named in the message)."""


# --- Sigma values -------------------------------------------------------------------------------

def parse_value(text):
    """A Sigma string value as units: ('c', char), ('*',) or ('?',), by the specification's escapes."""
    units, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "*?\\":
            units.append(("c", text[i + 1]))
            i += 2
            continue
        units.append((ch,) if ch in "*?" else ("c", ch))
        i += 1
    return units


def realize(units, star="", single="q"):
    return "".join(u[1] if u[0] == "c" else (star if u[0] == "*" else single) for u in units)


def regex_example(pattern, branch=0):
    """A string the regular expression finds (a search, as Sigma's `re`), choosing alternative `branch`."""
    def gen(parsed):
        out = []
        for op, av in parsed:
            name = str(op)
            if name == "LITERAL":
                out.append(chr(av))
            elif name == "NOT_LITERAL":
                out.append("x" if chr(av) != "x" else "y")
            elif name == "ANY":
                out.append("x")
            elif name == "IN":
                out.append(in_example(av))
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                low, _high, sub = av
                out.append(gen(sub) * max(low, 1))
            elif name == "SUBPATTERN":
                out.append(gen(av[-1]))
            elif name == "ATOMIC_GROUP":
                out.append(gen(av))
            elif name == "BRANCH":
                alternatives = av[1]
                out.append(gen(alternatives[branch % len(alternatives)]))
            elif name == "AT":
                continue
            elif name == "CATEGORY":
                out.append(category_example(str(av)))
            else:
                raise Unsupported(f"regular expression {pattern!r}: {name}")
        return "".join(out)

    def category_example(category):
        return {"CATEGORY_DIGIT": "7", "CATEGORY_SPACE": " ", "CATEGORY_WORD": "w",
                "CATEGORY_NOT_DIGIT": "x", "CATEGORY_NOT_SPACE": "x", "CATEGORY_NOT_WORD": "-"}[category]

    def in_example(items):
        negate = any(str(op) == "NEGATE" for op, _ in items)
        candidates = []
        for op, av in items:
            name = str(op)
            if name == "LITERAL":
                candidates.append(chr(av))
            elif name == "RANGE":
                candidates.append(chr(av[0]))
            elif name == "CATEGORY":
                candidates.append(category_example(str(av)))
        if not negate:
            return candidates[branch % len(candidates)] if candidates else "x"
        compiled = re.compile("[" + "".join(re.escape(c) for c in candidates) + "]") if candidates else None
        for c in "xQ9_:=":
            if compiled is None or not compiled.match(c):
                return c
        return "~"

    return gen(sre_parse.parse(pattern))


# --- the rule's detection -----------------------------------------------------------------------

class Constraint:
    """One value a field must hold: kind exact|contains|startswith|endswith|re, and its units."""

    def __init__(self, field, kind, units):
        self.field, self.kind, self.units = field, kind, units

    def with_units(self, units):
        return Constraint(self.field, self.kind, units)


def item_constraints(field_spec, value):
    """The detection item `field|mods: value` as a list of variants, each a list of Constraints
    (several values are OR: one variant each; `|all` is AND: one variant with all)."""
    parts = field_spec.split("|")
    field, mods = parts[0], parts[1:]
    if field not in SIGMA_FIELDS:
        raise Unsupported(f"field {field}")
    kind = "exact"
    known = {"contains", "startswith", "endswith", "all", "re"}
    for m in mods:
        if m not in known:
            raise Unsupported(f"modifier {m}")
        if m in ("contains", "startswith", "endswith", "re"):
            kind = m
    values = value if isinstance(value, list) else [value]
    made = []
    for v in values:
        if v is None or isinstance(v, bool):
            raise Unsupported(f"{field_spec}: value {v!r}")
        if kind == "re":
            made.append([Constraint(field, "re", [("re", str(v))])])
        else:
            made.append([Constraint(field, kind, parse_value(str(v)))])
    if "all" in mods:
        return [[c for variant in made for c in variant]]
    return made


def selection_variants(definition):
    """All variants of one named selection: a map ANDs its items, a list of maps ORs them. Each
    value of each item appears in some variant (the other items keep their first value)."""
    alternatives = definition if isinstance(definition, list) else [definition]
    variants = []
    for alternative in alternatives:
        if not isinstance(alternative, dict):
            raise Unsupported("keyword (field-less) values")
        items = [item_constraints(k, v) for k, v in alternative.items()]
        base = [item[0] for item in items]
        variants.append([c for part in base for c in part])
        for index, item in enumerate(items):
            for choice in item[1:]:
                parts = list(base)
                parts[index] = choice
                variants.append([c for part in parts for c in part])
    return variants


# --- conditions ---------------------------------------------------------------------------------

def parse_condition(text, names):
    """The condition as a function of the set of selection names that hold."""
    tokens = re.findall(r"\(|\)|[^\s()]+", text)
    position = [0]

    def peek():
        return tokens[position[0]] if position[0] < len(tokens) else None

    def take():
        position[0] += 1
        return tokens[position[0] - 1]

    def matching(pattern):
        if pattern == "them":
            return [n for n in names if not n.startswith("_")]
        rx = re.compile("^" + re.escape(pattern).replace(r"\*", ".*") + "$")
        return [n for n in names if rx.match(n)]

    def primary():
        token = take()
        if token == "(":
            inner = disjunction()
            assert take() == ")", text
            return inner
        if token == "not":
            inner = primary()
            return lambda s: not inner(s)
        if token in ("1", "all") and peek() == "of":
            take()
            group = matching(take())
            if token == "1":
                return lambda s: any(n in s for n in group)
            return lambda s: all(n in s for n in group)
        if token not in names:
            raise Unsupported(f"condition names {token!r}, which is not a selection")
        return lambda s: token in s

    def conjunction():
        left = primary()
        while peek() == "and":
            take()
            right, previous = primary(), left
            left = (lambda a, b: lambda s: a(s) and b(s))(previous, right)
        return left

    def disjunction():
        left = conjunction()
        while peek() == "or":
            take()
            right, previous = conjunction(), left
            left = (lambda a, b: lambda s: a(s) or b(s))(previous, right)
        return left

    result = disjunction()
    if peek() is not None:
        raise Unsupported(f"condition {text!r}")
    return result


def holding_sets(condition, names, rng, want=14):
    """Sets of selection names for which the condition holds, and some for which it does not."""
    import itertools
    subsets = []
    if len(names) <= 10:
        for size in range(len(names) + 1):
            subsets.extend(set(c) for c in itertools.combinations(names, size))
    else:
        subsets = [set(), set(names)] + [{n} for n in names] + [set(names) - {n} for n in names]
        subsets += [set(n for n in names if rng.random() < 0.5) for _ in range(200)]
    true_sets = [s for s in subsets if condition(s)]
    false_sets = [s for s in subsets if not condition(s) and s]
    rng.shuffle(false_sets)
    # The smallest holding sets first: each is a way of matching; larger ones add the filters.
    chosen_true = true_sets[:want] + rng.sample(true_sets[want:], min(want, len(true_sets[want:])))
    return chosen_true, false_sets[:want]


# --- events -------------------------------------------------------------------------------------

def compose(constraints, field, tight=False, star=0, single="q", regex_branch=0):
    """A field value holding every constraint on `field` (exact wins; else starts, contains, ends)."""
    mine = [c for c in constraints if c.field == field]
    if not mine:
        return None
    def text(c):
        if c.kind == "re":
            return regex_example(c.units[0][1], regex_branch)
        return realize(c.units, STAR_EXPANSIONS[star % len(STAR_EXPANSIONS)], single)
    exact = [c for c in mine if c.kind == "exact"]
    if exact:
        return text(exact[0])
    starts = "".join(text(c) for c in mine if c.kind == "startswith")
    middle = [text(c) for c in mine if c.kind in ("contains", "re")]
    ends = "".join(text(c) for c in mine if c.kind == "endswith")
    if tight:
        return starts + "".join(middle) + ends
    # Padded: a path or a command before, the contained values apart, something after unless
    # the field must end with a value.
    text = starts or ("/usr/local/bin" if field in ("Image", "ParentImage") else "run")
    for piece in middle:
        text += " " + piece
    return text + (ends if ends else "x")


def event_from(constraints, **options):
    """An event (Sigma fields) holding the constraints; unconstrained fields keep defaults."""
    event = dict(DEFAULTS)
    for field in SIGMA_FIELDS:
        value = compose(constraints, field, **options)
        if value is None:
            continue
        if field == "Image":
            event["invokedPath"] = event["exePath"] = value
        elif field in NUMERIC:
            if re.fullmatch(r"\d+", value):
                event[field] = int(value)
            else:
                event.pop(field)  # not a number: an attribute an exec event cannot carry
        else:
            event[field] = value
    return event


def char_mutations(units):
    """One-change variants of a value's units: a character removed (first, middle, last), the
    middle one changed, case variants, other expansions of its wildcards."""
    literal = [i for i, u in enumerate(units) if u[0] == "c"]
    variants = []
    for pick in {literal[0], literal[len(literal) // 2], literal[-1]} if literal else ():
        variants.append(("removed char", units[:pick] + units[pick + 1:]))
    if literal:
        i = literal[len(literal) // 2]
        ch = units[i][1]
        other = "b" if ch.lower() == "a" else ("1" if ch == "0" else ("a" if ch.isalnum() else "x"))
        variants.append(("changed char", units[:i] + [("c", other)] + units[i + 1:]))
        variants.append(("LIKE wildcard char", units[:i] + [("c", "_")] + units[i + 1:]))
    for name, change in (("upper case", str.upper), ("swapped case", str.swapcase)):
        changed = [("c", change(u[1])) if u[0] == "c" else u for u in units]
        if changed != units:
            variants.append((name, changed))
    for i, u in enumerate(units):
        if u[0] == "?":
            variants.append(("? as nothing", units[:i] + units[i + 1:]))
            variants.append(("? as two", units[:i] + [("c", "q"), ("c", "r")] + units[i + 1:]))
            break
    return variants


def rule_events(rule, seed):
    """Events for one rule (a parsed YAML document): a list of (label, event)."""
    detection = rule["detection"]
    names = [n for n in detection if n not in ("condition", "timeframe")]
    conditions = detection["condition"]
    if isinstance(conditions, list):
        if len(conditions) != 1:
            raise Unsupported("several conditions")
        conditions = conditions[0]
    condition = parse_condition(str(conditions), names)
    variants = {n: selection_variants(detection[n]) for n in names}
    rng = random.Random(seed)
    true_sets, false_sets = holding_sets(condition, names, rng)
    events = []

    def add(label, constraints, **options):
        events.append((label, event_from(constraints, **options)))

    def merged(chosen, replacing=None):
        constraints = []
        for n in sorted(chosen):
            constraints += replacing[1] if replacing and replacing[0] == n else variants[n][0]
        return constraints

    matching = []
    for holding in true_sets:
        base = merged(holding)
        matching.append(base)
        add(f"holds {sorted(holding)}", base)
        add(f"holds {sorted(holding)}, tight", base, tight=True)
        for n in sorted(holding):
            for k, variant in enumerate(variants[n][1:], 1):
                constraints = merged(holding, (n, variant))
                matching.append(constraints)
                add(f"holds {sorted(holding)}, {n} variant {k}", constraints)
    for holding in false_sets:
        add(f"fails {sorted(holding)}", merged(holding))
    # One change at a time to events that hold.
    for constraints in matching[:60]:
        for index, c in enumerate(constraints):
            if c.kind == "re":
                text = regex_example(c.units[0][1])
                for branch in (1, 2):
                    add(f"{c.field} regex alternative {branch}", constraints, regex_branch=branch)
                for name, units in char_mutations([("c", ch) for ch in text]):
                    # the changed example inside the field, as a search would find it
                    changed = Constraint(c.field, "contains", units)
                    add(f"{c.field}|re {name}", constraints[:index] + [changed] + constraints[index + 1:])
                continue
            for name, units in char_mutations(c.units):
                add(f"{c.field}|{c.kind} {name}", constraints[:index] + [c.with_units(units)] + constraints[index + 1:])
            if any(u[0] == "*" for u in c.units):
                for star in (1, 2):
                    add(f"{c.field} * as {STAR_EXPANSIONS[star]!r}", constraints, star=star)
            if any(u[0] == "?" for u in c.units):
                add(f"{c.field} ? as 'Z'", constraints, single="Z")
        fields = sorted({c.field for c in constraints})
        for field in fields:
            base = event_from(constraints)
            for label, change in field_changes(field):
                event = dict(base)
                change(event)
                events.append((f"{field} {label}", event))
    events.append(("all defaults", dict(DEFAULTS)))
    events.append(("nothing but the id", {}))
    unique, seen = [], set()
    for label, event in events:
        key = tuple(sorted((k, str(v)) for k, v in event.items()))
        if key not in seen:
            seen.add(key)
            unique.append((label, event))
    if len(unique) > MAX_EVENTS_PER_RULE:
        keep = unique[:MAX_EVENTS_PER_RULE // 3]
        keep += rng.sample(unique[MAX_EVENTS_PER_RULE // 3:], MAX_EVENTS_PER_RULE - len(keep))
        unique = keep
    return unique


def field_changes(field):
    """Whole-field changes: absent, empty; for Image the value in one of its two paths only."""
    columns = ["invokedPath", "exePath"] if field == "Image" else [field]
    changes = [("absent", lambda e: [e.pop(c, None) for c in columns]),
               ("empty", lambda e: [e.__setitem__(c, "") for c in columns if field not in NUMERIC])]
    if field == "Image":
        changes += [
            ("only as invoked", lambda e: e.__setitem__("exePath", "/usr/lib/resolved/other")),
            ("only as resolved", lambda e: e.__setitem__("invokedPath", "/usr/local/bin/alias")),
            ("resolved only, invoked absent", lambda e: e.pop("invokedPath", None)),
            ("invoked only, resolved absent", lambda e: e.pop("exePath", None)),
        ]
    return changes


# --- the two representations --------------------------------------------------------------------

def as_exec_event(number, event, time_seconds):
    """execwatch's JSON event: hostName carries the event's number, so each match is its own incident."""
    out = {"eventType": "LINUX_PROCESS_EXEC", "eventTime": time_seconds, "hostName": f"ev-{number}"}
    for column in ("invokedPath", "exePath"):
        if column in event:
            out[column] = event[column]
    if "CommandLine" in event:
        out["args"] = event["CommandLine"].split(" ")
    for field, attribute in EVENT_ATTRIBUTE.items():
        if field in event:
            out[attribute] = event[field]
    path = event.get("invokedPath") or event.get("exePath")
    if path:
        out["procName"] = path.rsplit("/", 1)[-1]
    return out


def as_row(number, event):
    return [number] + [event.get(column) for column in ROW_COLUMNS]
