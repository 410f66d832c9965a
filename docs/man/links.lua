-- A man page has no links: a link to another of the docs keeps its text
-- and names the file under /usr/share/doc/mesh-site; a web link keeps its
-- address in parentheses.
function Link(link)
  local target = link.target
  if target:match("^%a[%w+.-]*:") then
    if pandoc.utils.stringify(link.content) == target then
      return link.content
    end
    local out = link.content
    out:insert(pandoc.Str(" (" .. target .. ")"))
    return out
  end
  local file = target:gsub("#.*$", ""):gsub("^%./", "")
  if file == "" or pandoc.utils.stringify(link.content) == file then
    return link.content
  end
  local out = link.content
  out:insert(pandoc.Str(" (" .. file .. ")"))
  return out
end
