#include "plot/html_report.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "core/file_io.h"

namespace longctx::plot {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string inline_markdown(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '`') {
      size_t end = s.find('`', i + 1);
      if (end != std::string_view::npos) {
        out += "<code>" + html_escape(s.substr(i + 1, end - i - 1)) + "</code>";
        i = end + 1;
        continue;
      }
    } else if (starts_with(s.substr(i), "**")) {
      size_t end = s.find("**", i + 2);
      if (end != std::string_view::npos && end > i + 2) {
        out += "<strong>" + inline_markdown(s.substr(i + 2, end - i - 2)) + "</strong>";
        i = end + 2;
        continue;
      }
    } else if (c == '*') {
      size_t end = s.find('*', i + 1);
      if (end != std::string_view::npos && end > i + 1 && s[i + 1] != ' ') {
        out += "<em>" + inline_markdown(s.substr(i + 1, end - i - 1)) + "</em>";
        i = end + 1;
        continue;
      }
    } else if (c == '[') {
      size_t close = s.find("](", i + 1);
      size_t end = close == std::string_view::npos ? close : s.find(')', close + 2);
      if (end != std::string_view::npos) {
        out += "<a href=\"" + html_escape(s.substr(close + 2, end - close - 2)) + "\">" +
               inline_markdown(s.substr(i + 1, close - i - 1)) + "</a>";
        i = end + 1;
        continue;
      }
    }
    out += html_escape(s.substr(i, 1));
    ++i;
  }
  return out;
}

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string_view::npos) nl = s.size();
    std::string_view line = s.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = nl + 1;
  }
  return lines;
}

bool is_bullet(std::string_view line) {
  std::string_view t = trim(line);
  return starts_with(t, "- ") || starts_with(t, "* ");
}

// "1.5", "-0.008", "+.002", "12%", "5B", "1,024" read as numbers (right-aligned in tables).
bool looks_numeric(std::string_view cell) {
  std::string_view t = trim(cell);
  if (t.empty()) return false;
  size_t i = 0;
  if (t[i] == '+' || t[i] == '-') ++i;
  bool digit = false;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.' || t[i] == ',')) {
    digit |= std::isdigit(static_cast<unsigned char>(t[i])) != 0;
    ++i;
  }
  if (!digit) return false;
  std::string_view rest = t.substr(i);
  return rest.empty() || rest == "%" || rest == "K" || rest == "M" || rest == "B" || rest == "T" ||
         rest == "x";
}

const char* kCss = R"(body{font-family:"DejaVu Sans",system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;
max-width:1100px;margin:2em auto;padding:0 1.2em;line-height:1.5}
h1{font-size:1.7em;margin-bottom:.1em}h2{font-size:1.3em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
.subtitle{color:#666;margin-top:0}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}
th,td{padding:.3em .8em;border-bottom:1px solid #e3e3e3;text-align:left}
th{background:#f3f4f6;border-bottom:2px solid #ccc}tr:nth-child(even) td{background:#fafafa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
caption{caption-side:top;text-align:left;font-weight:bold;padding-bottom:.3em}
figure{margin:1.2em 0}figure img,figure svg{max-width:100%;height:auto}
figcaption{color:#555;font-size:.92em}
code{background:#f3f4f6;padding:0 .25em;border-radius:3px}
)";

std::string render_table(const HtmlTable& t) {
  std::string out = "<table>\n";
  if (!t.caption.empty()) out += "<caption>" + html_escape(t.caption) + "</caption>\n";
  if (!t.header.empty()) {
    out += "<thead><tr>";
    for (const auto& h : t.header) out += "<th>" + html_escape(h) + "</th>";
    out += "</tr></thead>\n";
  }
  out += "<tbody>\n";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (const auto& cell : row) {
      out += looks_numeric(cell) ? "<td class=\"num\">" : "<td>";
      out += html_escape(cell) + "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
  return out;
}

Result<std::string> render_image(const HtmlImage& img, const std::string& base_dir, int figure_no) {
  std::string out = "<figure>\n";
  if (img.inline_svg) {
    std::filesystem::path p(img.path);
    std::string full = p.is_absolute() || base_dir.empty() ? img.path : (std::filesystem::path(base_dir) / p).string();
    LONGCTX_ASSIGN_OR_RETURN(std::string svg, read_file(full));
    size_t start = svg.find("<svg");
    if (start == std::string::npos) {
      return make_error(ErrorCode::kCorrupt, "inlining '{}': no <svg> element", full);
    }
    out += prefix_svg_ids(std::string_view(svg).substr(start), fmt::format("fig{}-", figure_no));
    out += "\n";
  } else {
    out += "<img src=\"" + html_escape(img.path) + "\" alt=\"" +
           html_escape(img.alt.empty() ? img.caption : img.alt) + "\">\n";
  }
  if (!img.caption.empty()) out += "<figcaption>" + inline_markdown(img.caption) + "</figcaption>\n";
  out += "</figure>\n";
  return out;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string markdown_to_html(std::string_view markdown) {
  std::string out;
  std::vector<std::string_view> block;
  auto flush = [&]() {
    if (block.empty()) return;
    bool list = true;
    for (auto l : block) list &= is_bullet(l);
    if (list) {
      out += "<ul>\n";
      for (auto l : block) out += "<li>" + inline_markdown(trim(trim(l).substr(2))) + "</li>\n";
      out += "</ul>\n";
    } else {
      std::string para;
      for (auto l : block) {
        std::string_view t = trim(l);
        int level = starts_with(t, "### ") ? 3 : starts_with(t, "## ") ? 2 : starts_with(t, "# ") ? 1 : 0;
        if (level > 0) {
          if (!para.empty()) out += "<p>" + inline_markdown(para) + "</p>\n", para.clear();
          out += fmt::format("<h{0}>{1}</h{0}>\n", level + 2, inline_markdown(trim(t.substr(level + 1))));
          continue;
        }
        if (!para.empty()) para += ' ';
        para += t;
      }
      if (!para.empty()) out += "<p>" + inline_markdown(para) + "</p>\n";
    }
    block.clear();
  };
  for (auto line : split_lines(markdown)) {
    if (trim(line).empty()) {
      flush();
    } else {
      block.push_back(line);
    }
  }
  flush();
  return out;
}

std::string prefix_svg_ids(std::string_view svg, std::string_view prefix) {
  static const std::string_view kMarks[] = {" id=\"", "href=\"#", "url(#"};
  std::string out;
  out.reserve(svg.size() + svg.size() / 16);
  size_t i = 0;
  while (i < svg.size()) {
    bool matched = false;
    for (auto m : kMarks) {
      if (svg.substr(i, m.size()) == m) {
        out += m;
        out += prefix;
        i += m.size();
        matched = true;
        break;
      }
    }
    if (!matched) out += svg[i++];
  }
  return out;
}

Result<std::string> render_html_report(const HtmlReport& report, const std::string& base_dir) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + html_escape(report.title) + "</title>\n<style>\n" + kCss + "</style>\n</head>\n<body>\n";
  out += "<h1>" + html_escape(report.title) + "</h1>\n";
  if (!report.subtitle.empty()) out += "<p class=\"subtitle\">" + html_escape(report.subtitle) + "</p>\n";
  int figure_no = 0;
  for (const auto& section : report.sections) {
    out += "<section>\n";
    if (!section.heading.empty()) out += "<h2>" + html_escape(section.heading) + "</h2>\n";
    for (const auto& block : section.blocks) {
      if (const auto* t = std::get_if<HtmlText>(&block)) {
        out += markdown_to_html(t->markdown);
      } else if (const auto* tab = std::get_if<HtmlTable>(&block)) {
        out += render_table(*tab);
      } else if (const auto* img = std::get_if<HtmlImage>(&block)) {
        LONGCTX_ASSIGN_OR_RETURN(std::string fig, render_image(*img, base_dir, ++figure_no));
        out += fig;
      }
    }
    out += "</section>\n";
  }
  out += "</body>\n</html>\n";
  return out;
}

Status write_html_report(const HtmlReport& report, const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  LONGCTX_ASSIGN_OR_RETURN(std::string html, render_html_report(report, dir));
  return write_file_atomic(path, html).with_context("writing HTML report");
}

}  // namespace longctx::plot
