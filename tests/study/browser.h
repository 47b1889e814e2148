// Opening a page in headless Chromium (Debian's `chromium`, scripts/packages/report.txt) to check
// what a reader's browser does with it: every image decodes, every inline SVG draws something,
// and nothing is logged to the console (a blocked or missing resource is logged there).
//
// The page itself runs no script (a self-contained report's Content-Security-Policy allows
// none), so the check opens a copy with a probe script put before the policy: on load it writes
// "images=N svgs=M bad=..." into a <div id="probe-result">, which --dump-dom prints.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "core/file_io.h"
#include "test_util.h"

namespace longctx::testing {

struct BrowserCheck {
  bool ran = false;       // false: no chromium on this machine
  std::string error;      // the browser did not run or printed no probe result
  int images = 0, svgs = 0;
  std::vector<std::string> bad;               // "img3", "svg0": did not load / draws nothing
  std::vector<std::string> console;           // console lines the page caused
};

inline bool have_chromium() { return std::system("command -v chromium >/dev/null 2>&1") == 0; }

inline std::string chromium_command(const std::string& profile) {
  return "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
         "--disable-background-networking --disable-component-update --disable-sync --user-data-dir=" +
         profile + " --virtual-time-budget=5000";
}

// Opens `page` (a path) in a fresh profile; saves a screenshot of the page as it is to
// `screenshot` when not empty.
inline BrowserCheck check_in_chromium(const std::string& page, const std::string& screenshot = "") {
  BrowserCheck r;
  if (!have_chromium()) return r;
  r.ran = true;
  const std::string dir = std::filesystem::path(page).parent_path().string();
  std::string html = read_file(page).value();
  const std::string probe =
      "<script>window.addEventListener('load',function(){var bad=[];var im=document.images;"
      "for(var i=0;i<im.length;i++){if(!im[i].complete||im[i].naturalWidth==0)bad.push('img'+i);}"
      "var sv=document.querySelectorAll('figure svg');"
      "for(var j=0;j<sv.length;j++){var b=sv[j].getBBox();if(!(b.width>0&&b.height>0))bad.push('svg'+j);}"
      "var d=document.createElement('div');d.id='probe-result';"
      "d.textContent='images='+im.length+' svgs='+sv.length+' bad='+bad.join(',');document.body.appendChild(d);});</script>";
  const size_t head = html.find("<head>");
  if (head == std::string::npos) {
    r.error = "the page has no <head>";
    return r;
  }
  html.insert(head + 6, probe);
  const std::string probed = dir + "/.probe-" + std::filesystem::path(page).filename().string();
  (void)write_file_atomic(probed, html);
  const std::string profile = dir + "/.chromium-profile";
  std::filesystem::remove_all(profile);
  const std::string out = dir + "/.probe.dom", err = dir + "/.probe.log";
  std::system((chromium_command(profile) + " --enable-logging=stderr --v=0 --dump-dom file://" + probed + " >" + out + " 2>" +
               err).c_str());
  auto dom_file = read_file(out), log_file = read_file(err);
  const std::string dom = dom_file.is_ok() ? *dom_file : "", log = log_file.is_ok() ? *log_file : "";
  std::smatch m;
  const std::regex re("id=\"probe-result\">images=(\\d+) svgs=(\\d+) bad=([^<]*)<");
  if (!std::regex_search(dom, m, re)) {
    r.error = "no probe result in the page's DOM; chromium said:\n" + log.substr(0, 2000);
    return r;
  }
  r.images = std::stoi(m[1]), r.svgs = std::stoi(m[2]);
  const std::string bad = m[3];
  for (size_t p = 0; p < bad.size();) {
    size_t q = bad.find(',', p);
    if (q == std::string::npos) q = bad.size();
    if (q > p) r.bad.push_back(bad.substr(p, q - p));
    p = q + 1;
  }
  for (size_t p = 0; p < log.size();) {
    size_t q = log.find('\n', p);
    if (q == std::string::npos) q = log.size();
    const std::string line = log.substr(p, q - p);
    if (line.find("CONSOLE") != std::string::npos) r.console.push_back(line);
    p = q + 1;
  }
  if (!screenshot.empty()) {
    std::filesystem::remove_all(profile);
    std::system((chromium_command(profile) + " --window-size=1280,2400 --screenshot=" + screenshot + " file://" + page +
                 " >/dev/null 2>&1").c_str());
  }
  std::filesystem::remove_all(profile);
  return r;
}

}  // namespace longctx::testing
