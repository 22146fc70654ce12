-- Lexical errors: the text near the error is C Lua's buffer (escapes read so far decoded, the
-- failing one raw, cut at a zero byte), and each message's wording.
local cases = {
  [["a\tb\xg"]], [["\u{10FFFF}%\u{7FFFFFFF}a\n\xg"]], [["abc\q"]], [["ab\400"]], [["x\z   
   y\9q"]], [["tab\	x]], [["\u{110000000}"]], [["\u{41"]], [["\u41"]], [["a
b"]], [["abc]], "'a\\0b\\q'", [["\x4"]], [["a" "b"]], [[x = "a\tb" y]], [[x = 'a\0b' y]],
  [[x = [==[ab]=]c]==] y]], [[x = [=[abc]], [[x = --[==[ unclosed]], [[x = 0x1p-2q]],
}
for _, c in ipairs(cases) do print(load("return " .. c, "=c")) end
