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
  ::: {.keep-with-next}             -> #keep-with-next[…]: on the page of what follows
html output: a callout gets a visible title paragraph (class callout-title); other divs keep
their class and are styled by barometre.css.

As in Quarto, a callout without a title attribute takes its first heading as title, else a
default French label. The list of classes is mirrored by SUPPORTED_DIV_CLASSES in
barometre/publish/render/subset.py (tests/test_render.py checks the two agree).
]]

local FUNCTIONS = {
  ["card"] = "card",
  ["key-figures"] = "key-figures",
  ["demo-mark"] = "demo-block",
  ["source"] = "source-note",
  ["small"] = "small",
  ["lead"] = "lead",
  ["keep-with-next"] = "keep-with-next",
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
-- to how much their one-line width exceeds that. Header words are never hyphenated (« Poids
-- ef-fectif » read badly): when even whole words do not fit, the table's type is made smaller
-- until they do (down to MIN_FONT_PT). Widths are counted in characters at the font size
-- barometre.typ uses for that many columns. Tables that fit keep `auto` columns (natural
-- widths). HTML keeps the browser's own layout.
local TEXT_WIDTH_PT = 465      -- A4 minus 2 x 2.3 cm margins
local CHAR_EM = 0.5            -- mean advance of Libertinus Serif digits and letters
local BOLD_FACTOR = 1.15       -- header cells are bold
local CELL_PADDING_CHARS = 3   -- 2 x 5pt inset, and some air
local MIN_FONT_PT = 6.0        -- smallest type a table is set in
-- Rows kept together at each end of a table that breaks across pages (no page holds fewer
-- than this many rows of a table); tables of at most 2 x KEEP_ROWS rows never break.
local KEEP_ROWS = 3

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

-- Column widths (fractions, or nil for `auto`) and the font size (nil: the theme's default).
local function table_layout(tbl)
  local ncols = #tbl.colspecs
  -- natural: everything on one line; comfortable: body wraps at spaces and hyphens, header
  -- words whole.
  local natural, comfortable = {}, {}
  for j = 1, ncols do natural[j], comfortable[j] = 0, 0 end
  local function visit(rows, is_header)
    for _, row in ipairs(rows) do
      for j, cell in ipairs(row.cells) do
        if j <= ncols then
          local text = cell_text(cell)
          if is_header then
            local word = longest(text, "%S+") * BOLD_FACTOR
            natural[j] = math.max(natural[j], word)
            comfortable[j] = math.max(comfortable[j], word)
          else
            local token = longest(text, "[^%s%-–/]+")
            natural[j] = math.max(natural[j], utf8.len(text) or #text)
            comfortable[j] = math.max(comfortable[j], token)
          end
        end
      end
    end
  end
  visit(tbl.head.rows, true)
  for _, body in ipairs(tbl.bodies) do visit(body.body, false) end

  local size = font_size(ncols)
  local budget = TEXT_WIDTH_PT / (size * CHAR_EM)
  local sum_natural, sum_comfortable = 0, 0
  for j = 1, ncols do
    natural[j] = natural[j] + CELL_PADDING_CHARS
    comfortable[j] = comfortable[j] + CELL_PADDING_CHARS
    sum_natural, sum_comfortable = sum_natural + natural[j], sum_comfortable + comfortable[j]
  end
  if sum_natural <= budget then return nil, nil end
  local forced_size = nil
  if sum_comfortable > budget then
    -- whole header words do not fit: smaller type (the budget in characters grows)
    forced_size = math.max(MIN_FONT_PT, math.floor(TEXT_WIDTH_PT / (sum_comfortable * CHAR_EM) * 10) / 10)
    budget = TEXT_WIDTH_PT / (forced_size * CHAR_EM)
  end
  local widths = interpolate(comfortable, natural, budget)
  local total = 0
  for j = 1, ncols do total = total + widths[j] end
  local fractions = {}
  for j = 1, ncols do fractions[j] = widths[j] / total end
  return fractions, forced_size
end

local function typst_blocks(blocks)
  local text = pandoc.write(pandoc.Pandoc(blocks), "typst"):gsub("%s+$", "")
  return text
end

-- The first ncols cells of a table row as Typst content blocks, appended to cells.
local function append_cells(cells, row, ncols)
  for j, cell in ipairs(row.cells) do
    if j <= ncols then cells[#cells + 1] = "[" .. typst_blocks(cell.contents) .. "]" end
  end
  return cells
end

local ALIGN = { AlignLeft = "left", AlignRight = "right", AlignCenter = "center", AlignDefault = "auto" }

-- A table as Typst, the same with both renderers (Quarto's own typst output writes a table
-- without caption as a bare #table where pandoc wraps it in a figure). Header row repeated on
-- every page. Typst has no orphan/widow control for table rows, so a zero-width first column
-- carries unbreakable cells spanning the first and the last KEEP_ROWS body rows: a page break
-- can only fall between them, leaving at least KEEP_ROWS rows on each side; a table of at
-- most 2 x KEEP_ROWS rows is one unbreakable group.
local function typst_table(tbl, fractions, forced_size)
  local ncols = #tbl.colspecs
  local columns, aligns = { "0pt" }, { "auto" }
  for j, spec in ipairs(tbl.colspecs) do
    columns[#columns + 1] = fractions and string.format("%.2f%%", fractions[j] * 100) or "auto"
    aligns[#aligns + 1] = ALIGN[spec[1]] or "auto"
  end
  local spacer = "table.cell(inset: 0pt, stroke: none)[]"
  local out = {
    "#figure(",
    "  align(center)[#table(",
    "    columns: (" .. table.concat(columns, ", ") .. "),",
    "    align: (" .. table.concat(aligns, ", ") .. "),",
  }
  for _, row in ipairs(tbl.head.rows) do
    local cells = append_cells({ spacer }, row, ncols)
    out[#out + 1] = "    table.header(repeat: true, " .. table.concat(cells, ", ") .. "),"
  end
  out[#out + 1] = "    table.hline(),"
  local rows = {}
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do rows[#rows + 1] = row end
  end
  local n = #rows
  for i, row in ipairs(rows) do
    local lead
    if n <= 2 * KEEP_ROWS then
      lead = (i == 1) and string.format("table.cell(rowspan: %d, breakable: false, inset: 0pt, stroke: none)[]", n) or nil
    elseif i == 1 or i == n - KEEP_ROWS + 1 then
      lead = string.format("table.cell(rowspan: %d, breakable: false, inset: 0pt, stroke: none)[]", KEEP_ROWS)
    elseif i <= KEEP_ROWS or i > n - KEEP_ROWS then
      lead = nil  -- covered by the group's spanning cell
    else
      lead = spacer
    end
    local cells = append_cells(lead and { lead } or {}, row, ncols)
    out[#out + 1] = "    " .. table.concat(cells, ", ") .. ","
  end
  out[#out + 1] = "  )]"
  out[#out + 1] = "  , kind: table"
  -- a caption without a #tbl- label (crossref.lua takes labelled ones): printed, unnumbered
  local caption = pandoc.utils.stringify(tbl.caption.long or {})
  if caption ~= "" then
    local inlines = pandoc.Inlines({})
    for _, block in ipairs(tbl.caption.long) do
      if block.content then inlines:extend(block.content) end
    end
    out[#out + 1] = "  , numbering: none, caption: [" .. typst_blocks({ pandoc.Plain(inlines) }) .. "]"
  end
  out[#out + 1] = "  )"
  local code = table.concat(out, "\n")
  if forced_size then
    code = string.format("#table-size.update(%.1fpt)\n%s\n#table-size.update(none)", forced_size, code)
  end
  return code
end

-- In Typst, a table is written here (see typst_table); in HTML, columns keep the browser's
-- automatic layout (the dash-count widths of the source are dropped).
local function Table(tbl)
  if not FORMAT:match("typst") then
    for i, spec in ipairs(tbl.colspecs) do tbl.colspecs[i] = { spec[1], nil } end
    return tbl
  end
  local fractions, forced_size = table_layout(tbl)
  return pandoc.RawBlock("typst", typst_table(tbl, fractions, forced_size))
end

-- A paragraph that introduces a table or a figure (it ends with a colon: « Paramètres estimés : »)
-- stays on the page where the table starts, as a heading does (typst: a sticky block).
local function introduces(block)
  if not block then return false end
  if block.t == "Table" or block.t == "Figure" then return true end
  -- Quarto shows its figure and table floats (#fig-/#tbl-) to filters as such a div
  if block.t == "Div" and block.attributes["__quarto_custom_type"] == "FloatRefTarget" then return true end
  return block.t == "RawBlock" and block.format == "typst" and block.text:match("^#figure%(") ~= nil
end

local MAX_LEAD_IN_CHARS = 300  -- about three lines

local function Blocks(blocks)
  if not FORMAT:match("typst") then return nil end
  local out = pandoc.List()
  for i, block in ipairs(blocks) do
    local text = block.t == "Para" and pandoc.utils.stringify(block) or ""
    -- a long paragraph is not moved (it would leave a half-empty page): only short lead-ins
    if text:match(":%s*$") and utf8.len(text) <= MAX_LEAD_IN_CHARS and introduces(blocks[i + 1]) then
      out:insert(pandoc.RawBlock("typst", "#block(sticky: true, width: 100%)["))
      out:insert(block)
      out:insert(pandoc.RawBlock("typst", "]"))
    else
      out:insert(block)
    end
  end
  return out
end

return {
  { Meta = function(meta) has_demo_mark = meta["demo-mark"] ~= nil end },
  { Div = Div, Table = Table },
  { Blocks = Blocks },
}
