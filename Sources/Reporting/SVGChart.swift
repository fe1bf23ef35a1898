import Foundation

/// Small SVG charts written by the project itself (no plotting tools): a line chart
/// of series against a numeric x axis, and a grouped bar chart over categories.
/// Axes, "nice" ticks, axis labels, a title and a legend.
public enum SVGChart {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    static let width = 780.0, height = 420.0
    static let left = 70.0, right = 220.0, top = 40.0, bottom = 55.0   // margins; the legend sits in the right one
    static var plotWidth: Double { width - left - right }
    static var plotHeight: Double { height - top - bottom }

    /// Ticks at 1, 2 or 5 × 10^k covering [low, high] with about `count` intervals.
    public static func niceTicks(_ low: Double, _ high: Double, count: Int = 5) -> [Double] {
        var low = low, high = high
        if !(high > low) { low -= 0.5; high += 0.5 }
        let raw = (high - low) / Double(max(1, count))
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let first = floor(low / step) * step, last = ceil(high / step) * step
        var ticks: [Double] = []
        var value = first
        while value <= last + step * 1e-9 {
            ticks.append(abs(value) < step * 1e-9 ? 0 : value)
            value += step
        }
        return ticks
    }

    /// Tick text; on an axis reaching `largest` ≥ 10 000 whole numbers are written in k or M.
    static func tickLabel(_ value: Double, step: Double, largest: Double = 0) -> String {
        if abs(largest) >= 10_000, step >= 1, value != 0 {
            return abs(largest) >= 1e7 ? trimmed(value / 1e6) + "M" : trimmed(value / 1e3) + "k"
        }
        let decimals = step >= 1 ? 0 : Int(ceil(-log10(step)))
        return String(format: "%.\(decimals)f", value)
    }

    /// Tick text on a logarithmic axis (powers of 10): 1, 10, 100, 1k, 10k, 100k, 1M …
    static func logTickLabel(_ value: Double) -> String {
        if value >= 1e6 { return trimmed(value / 1e6) + "M" }
        if value >= 1e3 { return trimmed(value / 1e3) + "k" }
        return trimmed(value)
    }

    static func trimmed(_ value: Double) -> String {
        var text = String(format: "%.2f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func number(_ value: Double) -> String { String(format: "%.2f", value) }

    static func header(title: String) -> [String] {
        ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
         "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">",
         "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
         "<text x=\"\(number(left + plotWidth / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(escape(title))</text>"]
    }

    /// Frame, y ticks with grid lines, axis labels.
    static func axes(yTicks: [Double], yLabel: String, xLabel: String, logScale: Bool = false, yPosition: (Double) -> Double) -> [String] {
        var lines = ["<rect x=\"\(number(left))\" y=\"\(number(top))\" width=\"\(number(plotWidth))\" height=\"\(number(plotHeight))\" fill=\"none\" stroke=\"black\"/>"]
        let step = yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1
        for tick in yTicks {
            let y = number(yPosition(tick))
            lines.append("<line x1=\"\(number(left))\" y1=\"\(y)\" x2=\"\(number(left + plotWidth))\" y2=\"\(y)\" stroke=\"#dddddd\"/>")
            lines.append("<line x1=\"\(number(left - 5))\" y1=\"\(y)\" x2=\"\(number(left))\" y2=\"\(y)\" stroke=\"black\"/>")
            lines.append("<text x=\"\(number(left - 8))\" y=\"\(y)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(logScale ? logTickLabel(tick) : tickLabel(tick, step: step, largest: yTicks.last ?? 0))</text>")
        }
        lines.append("<text x=\"\(number(left + plotWidth / 2))\" y=\"\(number(height - 12))\" text-anchor=\"middle\">\(escape(xLabel))</text>")
        lines.append("<text transform=\"translate(18 \(number(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>")
        return lines
    }

    static func legend(_ names: [String], marker: (Int, Double, Double) -> String) -> [String] {
        var lines: [String] = []
        for (index, name) in names.enumerated() {
            let x = left + plotWidth + 15, y = top + 10 + Double(index) * 20
            lines.append(marker(index, x, y))
            lines.append("<text x=\"\(number(x + 28))\" y=\"\(number(y))\" dominant-baseline=\"middle\">\(escape(name))</text>")
        }
        return lines
    }

    /// A line chart: one `<polyline>` per series that has points (series without points are listed as "no data").
    public static func lineChart(title: String, xLabel: String, yLabel: String, series: [Series]) -> String {
        let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let xTicks = niceTicks(all.map(\.x).min() ?? 0, all.map(\.x).max() ?? 1)
        let yTicks = niceTicks(all.map(\.y).min() ?? 0, all.map(\.y).max() ?? 1)
        let (x0, x1) = (xTicks.first!, xTicks.last!), (y0, y1) = (yTicks.first!, yTicks.last!)
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - (y - y0) / (y1 - y0) * plotHeight }

        var lines = header(title: title) + axes(yTicks: yTicks, yLabel: yLabel, xLabel: xLabel, yPosition: py)
        let xStep = xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1
        for tick in xTicks {
            let x = number(px(tick)), base = top + plotHeight
            lines.append("<line x1=\"\(x)\" y1=\"\(number(base))\" x2=\"\(x)\" y2=\"\(number(base + 5))\" stroke=\"black\"/>")
            lines.append("<text x=\"\(x)\" y=\"\(number(base + 18))\" text-anchor=\"middle\">\(tickLabel(tick, step: xStep, largest: x1))</text>")
        }
        for (index, one) in series.enumerated() {
            let points = one.points.filter { $0.x.isFinite && $0.y.isFinite }
            guard !points.isEmpty else { continue }
            let color = palette[index % palette.count]
            let coordinates = points.map { "\(number(px($0.x))),\(number(py($0.y)))" }.joined(separator: " ")
            lines.append("<polyline data-series=\"\(escape(one.name))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(coordinates)\"/>")
            if points.count == 1 {
                lines.append("<circle cx=\"\(number(px(points[0].x)))\" cy=\"\(number(py(points[0].y)))\" r=\"3\" fill=\"\(color)\"/>")
            }
        }
        lines += legend(series.map { $0.points.isEmpty ? $0.name + " (no data)" : $0.name }) { index, x, y in
            "<line x1=\"\(number(x))\" y1=\"\(number(y))\" x2=\"\(number(x + 22))\" y2=\"\(number(y))\" stroke=\"\(palette[index % palette.count])\" stroke-width=\"2\"/>"
        }
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A grouped bar chart: for each category, one bar per series (`values[series][category]`).
    /// With `logScale` the y axis is logarithmic (ticks at powers of 10, bars rise from just below 1),
    /// so that counts spanning orders of magnitude (power-law cluster sizes) stay visible.
    public static func barChart(title: String, xLabel: String, yLabel: String, categories: [String],
                                seriesNames: [String], values: [[Double]], logScale: Bool = false) -> String {
        let maximum = max(values.flatMap { $0 }.filter(\.isFinite).max() ?? 1, 1)
        let yTicks: [Double]
        let py: (Double) -> Double
        if logScale {
            let decades = max(1, Int(ceil(log10(maximum) - 1e-9)))
            yTicks = (0...decades).map { pow(10, Double($0)) }
            let low = -0.3, high = Double(decades)   // the axis starts at 10^-0.3 so a count of 1 is a visible bar
            py = { top + plotHeight - (log10(max($0, pow(10, low))) - low) / (high - low) * plotHeight }
        } else {
            yTicks = niceTicks(0, maximum)
            let (y0, y1) = (yTicks.first!, yTicks.last!)
            py = { top + plotHeight - ($0 - y0) / (y1 - y0) * plotHeight }
        }
        let baseline = top + plotHeight
        var lines = header(title: title) + axes(yTicks: yTicks, yLabel: yLabel, xLabel: xLabel, logScale: logScale, yPosition: py)
        let groupWidth = plotWidth / Double(max(1, categories.count))
        let barWidth = groupWidth * 0.8 / Double(max(1, seriesNames.count))
        for (c, category) in categories.enumerated() {
            let groupLeft = left + Double(c) * groupWidth
            lines.append("<text x=\"\(number(groupLeft + groupWidth / 2))\" y=\"\(number(top + plotHeight + 18))\" text-anchor=\"middle\">\(escape(category))</text>")
            for s in seriesNames.indices {
                let value = c < values[s].count ? values[s][c] : 0
                guard value > 0, value.isFinite else { continue }
                let x = groupLeft + groupWidth * 0.1 + Double(s) * barWidth
                lines.append("<rect x=\"\(number(x))\" y=\"\(number(py(value)))\" width=\"\(number(barWidth))\" height=\"\(number(baseline - py(value)))\" fill=\"\(palette[s % palette.count])\"><title>\(escape(seriesNames[s])), \(escape(category)): \(trimmed(value))</title></rect>")
            }
        }
        lines += legend(seriesNames) { index, x, y in
            "<rect x=\"\(number(x))\" y=\"\(number(y - 6))\" width=\"22\" height=\"12\" fill=\"\(palette[index % palette.count])\"/>"
        }
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }
}
