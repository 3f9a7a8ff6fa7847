import Foundation

/// Text made safe for HTML, and the two small renderers the egg page needs: README Markdown and
/// cloud-init YAML highlighting. Both escape everything first, so no tag or attribute from an
/// egg ever reaches the page; only the markup made here does.
enum HTMLText {
    static func escape(_ s: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A safe subset of Markdown: headings, paragraphs, lists, fenced code, `code`, **bold**,
    /// and links to http(s) only (with rel=noopener).
    static func markdown(_ text: String) -> String {
        var out = ""
        var paragraph: [String] = []
        var inList = false
        var inCode = false
        func flush() {
            if !paragraph.isEmpty { out += "<p>" + paragraph.map(inline).joined(separator: " ") + "</p>\n" }
            paragraph = []
            if inList {
                out += "</ul>\n"
                inList = false
            }
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("```") {
                if inCode {
                    out += "</code></pre>\n"
                } else {
                    flush()
                    out += "<pre><code>"
                }
                inCode.toggle()
                continue
            }
            if inCode {
                out += escape(line) + "\n"
                continue
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                flush()
            } else if let level = heading(trimmed) {
                flush()
                let n = min(level + 2, 6)  // the page has its own h1 and h2
                out += "<h\(n)>" + inline(String(trimmed.dropFirst(level + 1))) + "</h\(n)>\n"
            } else if trimmed.hasPrefix("- ") || trimmed.hasPrefix("* ") {
                if !paragraph.isEmpty { flush() }
                if !inList {
                    out += "<ul>\n"
                    inList = true
                }
                out += "<li>" + inline(String(trimmed.dropFirst(2))) + "</li>\n"
            } else {
                if inList { flush() }
                paragraph.append(trimmed)
            }
        }
        if inCode { out += "</code></pre>\n" }
        flush()
        return out
    }

    private static func heading(_ line: String) -> Int? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
        return hashes
    }

    /// `code`, **bold** and [text](https://…) in one escaped line.
    static func inline(_ raw: String) -> String {
        var out = ""
        var rest = Substring(raw)
        while let c = rest.first {
            if c == "`", let end = rest.dropFirst().firstIndex(of: "`") {
                out += "<code>" + escape(rest[rest.index(after: rest.startIndex)..<end]) + "</code>"
                rest = rest[rest.index(after: end)...]
            } else if rest.hasPrefix("**"), let end = rest.dropFirst(2).range(of: "**") {
                out += "<strong>" + escape(rest[rest.index(rest.startIndex, offsetBy: 2)..<end.lowerBound]) + "</strong>"
                rest = rest[end.upperBound...]
            } else if c == "[", let close = rest.firstIndex(of: "]"), rest[rest.index(after: close)...].hasPrefix("("),
                let paren = rest[close...].firstIndex(of: ")")
            {
                let label = rest[rest.index(after: rest.startIndex)..<close]
                let url = rest[rest.index(close, offsetBy: 2)..<paren]
                if url.hasPrefix("https://") || url.hasPrefix("http://") {
                    out += "<a href=\"\(escape(url))\" rel=\"noopener noreferrer\">" + escape(label) + "</a>"
                } else {
                    out += escape(label)
                }
                rest = rest[rest.index(after: paren)...]
            } else {
                out += escape(String(c))
                rest = rest.dropFirst()
            }
        }
        return out
    }

    /// cloud-init YAML with comments, keys, strings and `{{ variables }}` in spans.
    static func highlightYAML(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let s = String(line)
            let trimmed = s.drop { $0 == " " }
            if trimmed.hasPrefix("#") { return "<span class=\"y-c\">\(escape(s))</span>" }
            var body = s
            var keyHTML = ""
            let indent = s.prefix { $0 == " " || $0 == "-" }
            let afterIndent = s.dropFirst(indent.count)
            if let colon = afterIndent.firstIndex(of: ":"),
                afterIndent[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }),
                !afterIndent[..<colon].isEmpty
            {
                keyHTML = escape(indent) + "<span class=\"y-k\">\(escape(afterIndent[..<colon]))</span>:"
                body = String(afterIndent[afterIndent.index(after: colon)...])
            } else {
                keyHTML = ""
            }
            var html = escape(body)
            html = html.replacingOccurrences(of: "{{", with: "<span class=\"y-v\">{{").replacingOccurrences(of: "}}", with: "}}</span>")
            if body.trimmingCharacters(in: .whitespaces).hasPrefix("&quot;") || body.trimmingCharacters(in: .whitespaces).hasPrefix("\"") {
                html = "<span class=\"y-s\">\(html)</span>"
            }
            return keyHTML + html
        }.joined(separator: "\n")
    }
}
