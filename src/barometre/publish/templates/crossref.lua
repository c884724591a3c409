--[[
Quarto's figure and table cross-references, for the offline renderer (Quarto does its own).

Sources label figures `![caption](figures/x.png){#fig-x}` and tables `: caption {#tbl-x}` and
refer to them with `@fig-x` / `@tbl-x`. This filter writes them as Quarto 1.10 does, so that
both renderers give the same document:

typst: a figure `#figure([…], caption: figure.caption(position: bottom, […]),
       kind: "quarto-float-fig", supplement: "Figure") <fig-x>`; a table is wrapped in a figure
       of kind "quarto-float-tbl" (caption on top, supplement « Tableau »), the table itself
       being written by barometre-divs.lua; a reference is `#ref(<fig-x>, supplement: [Figure])`
       (Typst numbers the floats of each kind and prints « Figure 3 »).
html:  captions start with « Figure 3 – » / « Tableau 2 – » (Quarto's crossref.title-delim); a reference is a link
       « Figure 3 » to the float.

It must run before --citeproc: citeproc would take `@fig-x` for a missing citation. The
supplements are those of the Quarto project (crossref.fig-title, crossref.tbl-title in
templates/quarto-project.yml); tests/test_render.py checks the two agree.
]]

local SUPPLEMENT = { fig = "Figure", tbl = "Tableau" }
local NBSP = "\u{00A0}"

local numbers = {}   -- id -> number, in document order, per kind

local function kind_of(id)
  if not id then return nil end
  local kind = id:match("^(%a+)%-")
  if kind and SUPPLEMENT[kind] then return kind end
  return nil
end

local function typst_inlines(inlines)
  local doc = pandoc.Pandoc({ pandoc.Plain(inlines) })
  return (pandoc.write(doc, "typst"):gsub("%s+$", ""))
end

local function caption_inlines(caption)
  local blocks = caption.long or {}
  local inlines = pandoc.Inlines({})
  for _, block in ipairs(blocks) do
    if block.content then inlines:extend(block.content) end
  end
  return inlines
end

-- First pass: number the labelled figures and tables in document order.
local function collect(doc)
  local counts = { fig = 0, tbl = 0 }
  doc:walk({
    Figure = function(el)
      local kind = kind_of(el.identifier)
      if kind == "fig" then counts.fig = counts.fig + 1; numbers[el.identifier] = counts.fig end
    end,
    Table = function(el)
      local kind = kind_of(el.identifier)
      if kind == "tbl" then counts.tbl = counts.tbl + 1; numbers[el.identifier] = counts.tbl end
    end,
  })
end

local function float_open(kind)
  return pandoc.RawBlock("typst", "#figure([")
end

local function float_close(kind, caption, id)
  local position = (kind == "tbl") and "top" or "bottom"
  return pandoc.RawBlock("typst", string.format(
    '], caption: figure.caption(position: %s, [%s]), kind: "quarto-float-%s", supplement: "%s")\n<%s>',
    position, typst_inlines(caption), kind, SUPPLEMENT[kind], id))
end

local function label_inlines(kind, id)
  return pandoc.Inlines({ pandoc.Str(SUPPLEMENT[kind] .. NBSP .. tostring(numbers[id] or "?")) })
end

local function Figure(el)
  if kind_of(el.identifier) ~= "fig" then return nil end
  local id = el.identifier
  if FORMAT:match("typst") then
    local blocks = pandoc.List({ float_open("fig") })
    blocks:extend(el.content)
    blocks:insert(float_close("fig", caption_inlines(el.caption), id))
    return blocks
  end
  local prefix = label_inlines("fig", id)
  prefix:insert(pandoc.Str(NBSP .. "–"))
  prefix:insert(pandoc.Space())
  local long = el.caption.long
  if #long > 0 and long[1].content then
    local content = pandoc.Inlines(prefix)
    content:extend(long[1].content)
    long[1].content = content
  end
  return el
end

local function Table(el)
  if kind_of(el.identifier) ~= "tbl" then return nil end
  local id = el.identifier
  if FORMAT:match("typst") then
    local caption = caption_inlines(el.caption)
    el.caption = pandoc.Caption({})
    el.identifier = ""
    return { float_open("tbl"), el, float_close("tbl", caption, id) }
  end
  -- html: a figure holding the table, its caption a figcaption, as Quarto writes a table float
  local prefix = label_inlines("tbl", id)
  prefix:insert(pandoc.Str(NBSP .. "–"))
  prefix:insert(pandoc.Space())
  local content = pandoc.Inlines(prefix)
  content:extend(caption_inlines(el.caption))
  el.caption = pandoc.Caption({})
  el.identifier = ""
  return pandoc.Figure({ el }, pandoc.Caption({ pandoc.Plain(content) }), pandoc.Attr(id, { "quarto-float-tbl" }))
end

local function Cite(el)
  if #el.citations ~= 1 then return nil end
  local id = el.citations[1].id
  local kind = kind_of(id)
  if not kind then return nil end
  if FORMAT:match("typst") then
    return pandoc.RawInline("typst", string.format("#ref(<%s>, supplement: [%s])", id, SUPPLEMENT[kind]))
  end
  return pandoc.Link(label_inlines(kind, id), "#" .. id)
end

return {
  { Pandoc = function(doc) collect(doc); return nil end },
  { Figure = Figure, Table = Table, Cite = Cite },
}
