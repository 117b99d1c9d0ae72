# Runs RubyGems' own Gem::Version / Gem::Requirement over a corpus:
#   ruby ruby_ref.rb CORPUS.json > FIXTURE.json
# A range is a comma-separated list of requirements, as in a gemspec: ">= 1.0, < 2".
require "json"
require "rubygems"

corpus = JSON.parse(File.read(ARGV[0]))
versions = corpus["versions"]
parsed = versions.map { |v| Gem::Version.correct?(v) ? Gem::Version.new(v) : nil }
sign = ->(n) { n < 0 ? "-" : (n > 0 ? "+" : "0") }
ranges = corpus["ranges"].map do |r|
  begin
    req = Gem::Requirement.new(*r.split(","))
    valid, error = true, nil
  rescue Gem::Requirement::BadRequirementError, ArgumentError => e
    req, valid, error = nil, false, e.message
  end
  m = versions.each_index.map { |i| parsed[i] && req && req.satisfied_by?(parsed[i]) ? "1" : "0" }.join
  { range: r, valid: valid, error: error, matches: m, matches_pre: m }
end
out = {
  format: "ruby", reference: "RubyGems #{Gem::VERSION} (ruby #{RUBY_VERSION})", versions: versions,
  valid: parsed.map { |p| p ? "1" : "0" }.join,
  prerelease: parsed.map { |p| p.nil? ? "-" : (p.prerelease? ? "1" : "0") }.join,
  order: parsed.map { |a| parsed.map { |b| a && b ? sign.((a <=> b)) : "?" }.join },
  ranges: ranges,
}
puts JSON.pretty_generate(out)
