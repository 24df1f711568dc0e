// A minimal JSON reader for the test double's model files: objects, arrays, numbers, strings, booleans, null.
// Enough for small hand-written descriptions; it reports the byte offset of the first syntax error.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace hbdouble {

struct JsonValue {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<JsonValue> array;
  std::map<std::string, JsonValue> object;

  bool Has(const std::string& key) const { return kind == Kind::Object && object.count(key) > 0; }
  const JsonValue* Get(const std::string& key) const {
    if (kind != Kind::Object) return nullptr;
    auto it = object.find(key);
    return it == object.end() ? nullptr : &it->second;
  }
};

class JsonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

JsonValue ParseJson(const std::string& text);

}  // namespace hbdouble
