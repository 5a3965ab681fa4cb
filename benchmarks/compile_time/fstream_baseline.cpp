// By hand: orders.csv -> paid orders as gzipped JSON lines (zlib's gzFile, a temporary
// file renamed into place). Naive CSV: no quoted fields.
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> out;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, ','))
        out.push_back(field);
    return out;
}

static void json_string(std::string& out, const std::string& s) {
    out += '"';
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    out += '"';
}

int main() {
    std::ifstream in("orders.csv");
    std::string line;
    if (!std::getline(in, line))
        return 1;
    std::vector<std::string> header = split(line);
    std::size_t paid = 0;
    while (paid < header.size() && header[paid] != "paid")
        ++paid;
    gzFile out = gzopen("paid.jsonl.gz.tmp", "wb6");
    if (!out)
        return 1;
    std::string json;
    while (std::getline(in, line)) {
        std::vector<std::string> f = split(line);
        if (paid >= f.size() || f[paid] != "true")
            continue;
        json = "{";
        for (std::size_t i = 0; i < f.size() && i < header.size(); ++i) {
            if (i)
                json += ',';
            json_string(json, header[i]);
            json += ':';
            json_string(json, f[i]);
        }
        json += "}\n";
        gzwrite(out, json.data(), static_cast<unsigned>(json.size()));
    }
    if (gzclose(out) != Z_OK)
        return 1;
    return std::rename("paid.jsonl.gz.tmp", "paid.jsonl.gz") == 0 ? 0 : 1;
}
