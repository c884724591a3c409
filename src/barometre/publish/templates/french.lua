--[[
French typography for pandoc (also usable in Quarto: `filters: [french.lua]`).

When the document language is French (`lang: fr`, `fr-FR`…):
- "double quotes" become guillemets with no-break spaces inside: « texte »;
  'single quotes' become “ ” (second-level quotes in French);
- the space before : and % becomes a no-break space (U+00A0), the space before ; ! ?
  a narrow no-break space (U+202F); so do spaces just inside typed guillemets (U+00A0) and
  between typed groups of thousands ("5 000" -> U+202F).
Pandoc itself leaves English quotes in HTML and breaks lines before a colon.
]]

local NBSP = "\u{00A0}"
local NNBSP = "\u{202F}"
local is_french = false

local function starts_with_any(text, prefixes)
  for _, p in ipairs(prefixes) do
    if text:sub(1, #p) == p then return true end
  end
  return false
end

local NBSP_BEFORE = { ":", "%", "»" }
local NNBSP_BEFORE = { ";", "!", "?" }

local function fix_spaces(inlines)
  for i = 1, #inlines do
    local el = inlines[i]
    if el.t == "Space" or el.t == "SoftBreak" then
      local next_el, prev_el = inlines[i + 1], inlines[i - 1]
      if next_el and next_el.t == "Str" then
        if starts_with_any(next_el.text, NBSP_BEFORE) then
          inlines[i] = pandoc.Str(NBSP)
        elseif starts_with_any(next_el.text, NNBSP_BEFORE) then
          inlines[i] = pandoc.Str(NNBSP)
        end
      end
      if prev_el and prev_el.t == "Str" and prev_el.text:sub(-#"«") == "«" then
        inlines[i] = pandoc.Str(NBSP)
      end
      -- Typed thousands ("5 000 habitants") must not break across lines.
      if prev_el and next_el and prev_el.t == "Str" and next_el.t == "Str"
          and prev_el.text:match("^%d%d?%d?$") and next_el.text:match("^%d%d%d") and not next_el.text:match("^%d%d%d%d") then
        inlines[i] = pandoc.Str(NNBSP)
      end
    end
  end
  return inlines
end

local function quoted(el)
  local open, close
  if el.quotetype == "DoubleQuote" then
    open, close = "«" .. NBSP, NBSP .. "»"
  else
    open, close = "“", "”"
  end
  local out = pandoc.List({ pandoc.Str(open) })
  out:extend(el.content)
  out:insert(pandoc.Str(close))
  return out
end

return {
  {
    Meta = function(meta)
      local lang = meta.lang and pandoc.utils.stringify(meta.lang) or ""
      is_french = lang:lower():sub(1, 2) == "fr"
    end,
  },
  {
    Quoted = function(el) if is_french then return quoted(el) end end,
  },
  {
    Inlines = function(inlines) if is_french then return fix_spaces(inlines) end end,
  },
}
