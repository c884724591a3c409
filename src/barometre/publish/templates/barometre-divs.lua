--[[
Fenced divs of the report subset, for the offline renderer (Quarto has its own callouts).

typst output: divs become calls to the functions of barometre.typ
  ::: {.callout-note title="…"}   -> #callout(kind: "note", title: […])[…]
  ::: {.card}                       -> #card[…]        (optional title="…")
  ::: {.key-figures}                -> #key-figures[…]
  ::: {.demo-mark}                  -> #demo-block[…]: the template prints it on every page;
                                       dropped when the document has a `demo-mark` metadata
                                       value (already printed; HTML: already in the banner)
  ::: {.source}                     -> #source-note[…]
  ::: {.small}                      -> #small[…]
  ::: {.lead}                       -> #lead[…]
html output: a callout gets a visible title paragraph (class callout-title); other divs keep
their class and are styled by barometre.css.

As in Quarto, a callout without a title attribute takes its first heading as title, else a
default French label. The list of classes is mirrored by SUPPORTED_DIV_CLASSES in
barometre/publish/render.py.
]]

local FUNCTIONS = {
  ["card"] = "card",
  ["key-figures"] = "key-figures",
  ["demo-mark"] = "demo-block",
  ["source"] = "source-note",
  ["small"] = "small",
  ["lead"] = "lead",
}

local CALLOUT_LABELS = {
  note = "Note",
  tip = "À retenir",
  important = "Important",
  warning = "Attention",
  caution = "Prudence",
}

local function typst_inlines(inlines)
  local doc = pandoc.Pandoc({ pandoc.Plain(inlines) })
  return (pandoc.write(doc, "typst"):gsub("%s+$", ""))
end

local function markdown_inlines(text)
  local blocks = pandoc.read(text, "markdown").blocks
  if #blocks == 0 then return pandoc.Inlines({}) end
  return blocks[1].content
end

-- Title of a callout: title attribute, else its first heading (removed from the content).
local function callout_title(el)
  local content = el.content
  if el.attributes["title"] then
    return markdown_inlines(el.attributes["title"]), content
  end
  if #content > 0 and content[1].t == "Header" then
    local rest = content:clone()
    rest:remove(1)
    return content[1].content, rest
  end
  return nil, content
end

local function typst_div(el)
  for _, cls in ipairs(el.classes) do
    local kind = cls:match("^callout%-(%a+)$")
    local call, content = nil, el.content
    if kind then
      local title
      title, content = callout_title(el)
      local args = 'kind: "' .. kind .. '"'
      if title then args = args .. ", title: [" .. typst_inlines(title) .. "]" end
      call = "#callout(" .. args .. ")["
    elseif FUNCTIONS[cls] then
      if cls == "card" and el.attributes["title"] then
        call = "#card(title: [" .. typst_inlines(markdown_inlines(el.attributes["title"])) .. "])["
      else
        call = "#" .. FUNCTIONS[cls] .. "["
      end
    end
    if call then
      local blocks = pandoc.List({ pandoc.RawBlock("typst", call) })
      blocks:extend(content)
      blocks:insert(pandoc.RawBlock("typst", "]"))
      return blocks
    end
  end
  return nil
end

local function html_div(el)
  for _, cls in ipairs(el.classes) do
    local kind = cls:match("^callout%-(%a+)$")
    if kind then
      local title, content = callout_title(el)
      title = title or pandoc.Inlines({ pandoc.Str(CALLOUT_LABELS[kind] or "Note") })
      local blocks = pandoc.List({ pandoc.Div(pandoc.Para(title), pandoc.Attr("", { "callout-title" })) })
      blocks:extend(content)
      el.content = blocks
      el.attributes["title"] = nil
      return el
    elseif cls == "card" and el.attributes["title"] then
      local blocks = pandoc.List({ pandoc.Header(3, markdown_inlines(el.attributes["title"])) })
      blocks:extend(el.content)
      el.content = blocks
      el.attributes["title"] = nil
      return el
    end
  end
  return nil
end

local has_demo_mark = false

local function Div(el)
  if el.classes:includes("demo-mark") and has_demo_mark then return {} end
  if FORMAT:match("typst") then return typst_div(el) end
  if FORMAT:match("html") then return html_div(el) end
  return nil
end

-- Column widths for typst. Typst shares an overfull table's width out evenly among its auto
-- columns (a commune-name column ends up as narrow as a number column) and pandoc's widths
-- come from the dash counts of the source. So estimate widths here, as a browser's automatic
-- table layout would: every column gets at least its longest header word and body token
-- (body text wraps at spaces and hyphens), and the width left goes to columns in proportion
-- to how much their one-line width exceeds that; only when even that does not fit are header
-- words hyphenated (barometre.typ allows it in header cells). Widths are
-- counted in characters at the font size barometre.typ uses for that many columns. Tables
-- that fit keep `auto` columns (natural widths). HTML keeps the browser's own layout.
local TEXT_WIDTH_PT = 465      -- A4 minus 2 x 2.3 cm margins
local CHAR_EM = 0.5            -- mean advance of Libertinus Serif digits and letters
local BOLD_FACTOR = 1.15       -- header cells are bold
local HYPHENATED_SHARE = 0.6   -- a hyphenated header word needs about this share of its length
local CELL_PADDING_CHARS = 3   -- 2 x 5pt inset, and some air

local function font_size(ncols)
  if ncols >= 8 then return 7.5 elseif ncols >= 6 then return 8.2 else return 9 end
end

local function longest(text, pattern)
  local result = 0
  for word in text:gmatch(pattern) do
    result = math.max(result, utf8.len(word) or #word)
  end
  return result
end

local function cell_text(cell)
  return pandoc.utils.stringify(pandoc.Blocks(cell.contents))
end

-- Widths `low + (high - low) * share`, with the share that fills `budget` (clamped to [0, 1]).
local function interpolate(low, high, budget)
  local sum_low, sum_high = 0, 0
  for j = 1, #low do sum_low, sum_high = sum_low + low[j], sum_high + high[j] end
  local share = 0
  if sum_high > sum_low then share = math.min(1, math.max(0, (budget - sum_low) / (sum_high - sum_low))) end
  local widths = {}
  for j = 1, #low do widths[j] = low[j] + (high[j] - low[j]) * share end
  return widths
end

local function table_widths(tbl)
  if not FORMAT:match("typst") then
    -- browsers lay out `auto` columns from content: drop the dash-count widths
    for i, spec in ipairs(tbl.colspecs) do tbl.colspecs[i] = { spec[1], nil } end
    return tbl
  end
  local ncols = #tbl.colspecs
  -- natural: everything on one line; comfortable: body wraps at spaces and hyphens, header
  -- words whole; hard: header words hyphenated too.
  local natural, comfortable, hard, body_natural = {}, {}, {}, {}
  for j = 1, ncols do natural[j], comfortable[j], hard[j], body_natural[j] = 0, 0, 0, 0 end
  local function visit(rows, is_header)
    for _, row in ipairs(rows) do
      for j, cell in ipairs(row.cells) do
        if j <= ncols then
          local text = cell_text(cell)
          if is_header then
            local word = longest(text, "%S+") * BOLD_FACTOR
            natural[j] = math.max(natural[j], word)
            comfortable[j] = math.max(comfortable[j], word)
            hard[j] = math.max(hard[j], word * HYPHENATED_SHARE)
          else
            local token = longest(text, "[^%s%-–/]+")
            natural[j] = math.max(natural[j], utf8.len(text) or #text)
            body_natural[j] = math.max(body_natural[j], utf8.len(text) or #text)
            comfortable[j] = math.max(comfortable[j], token)
            hard[j] = math.max(hard[j], token)
          end
        end
      end
    end
  end
  visit(tbl.head.rows, true)
  for _, body in ipairs(tbl.bodies) do visit(body.body, false) end

  local budget = TEXT_WIDTH_PT / (font_size(ncols) * CHAR_EM)
  local sum_natural, sum_comfortable = 0, 0
  for j = 1, ncols do
    natural[j] = natural[j] + CELL_PADDING_CHARS
    comfortable[j] = comfortable[j] + CELL_PADDING_CHARS
    hard[j] = hard[j] + CELL_PADDING_CHARS
    body_natural[j] = math.max(body_natural[j] + CELL_PADDING_CHARS, hard[j])
    sum_natural, sum_comfortable = sum_natural + natural[j], sum_comfortable + comfortable[j]
  end
  if sum_natural <= budget then
    for i, spec in ipairs(tbl.colspecs) do tbl.colspecs[i] = { spec[1], nil } end
    return tbl
  end
  local widths
  if sum_comfortable <= budget then
    widths = interpolate(comfortable, natural, budget)
  else
    -- header words get hyphenated, and the width left goes to long body cells, so that a
    -- commune name does not end up on four lines
    widths = interpolate(hard, body_natural, budget)
  end
  local total = 0
  for j = 1, ncols do total = total + widths[j] end
  for j = 1, ncols do
    tbl.colspecs[j] = { tbl.colspecs[j][1], widths[j] / total }
  end
  return tbl
end

-- In Typst, a table is written here, by pandoc's typst writer: Quarto's own typst output writes
-- a table without caption as a bare #table (and drops the caption of a table without a #tbl-
-- label) where pandoc wraps it in a figure, which spaces and aligns it differently. Written
-- here, a table is the same Typst with both renderers.
local function Table(tbl)
  tbl = table_widths(tbl)
  if not FORMAT:match("typst") then return tbl end
  return pandoc.RawBlock("typst", pandoc.write(pandoc.Pandoc({ tbl }), "typst"))
end

return {
  { Meta = function(meta) has_demo_mark = meta["demo-mark"] ~= nil end },
  { Div = Div, Table = Table },
}
