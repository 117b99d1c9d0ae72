// Runs maven-artifact's own ComparableVersion / VersionRange over a corpus:
//   java -cp maven-artifact.jar MavenRef.java CORPUS.json > FIXTURE.json
// Prerelease (Maven has no such flag; our documented definition, computed with Maven's order):
// a version is a prerelease when it sorts before its leading numeric part, e.g. 1.0-rc1 < 1.0.
import java.nio.file.*;
import java.util.*;
import java.util.regex.*;
import org.apache.maven.artifact.versioning.*;

public class MavenRef {
    static List<String> strings(String json, String key) {
        int k = json.indexOf("\"" + key + "\"");
        int start = json.indexOf('[', k), end = start;
        boolean inStr = false;
        for (int i = start; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c == '\\') { i++; continue; }
            if (c == '"') inStr = !inStr;
            if (c == ']' && !inStr) { end = i; break; }
        }
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json.substring(start, end));
        while (m.find()) out.add(m.group(1).replace("\\\"", "\"").replace("\\\\", "\\"));
        return out;
    }
    static String q(String s) {
        if (s == null) return "null";
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
    public static void main(String[] args) throws Exception {
        String json = new String(Files.readAllBytes(Paths.get(args[0])), "UTF-8");
        List<String> versions = strings(json, "versions"), ranges = strings(json, "ranges");
        Pattern numeric = Pattern.compile("^[0-9]+(\\.[0-9]+)*");
        StringBuilder o = new StringBuilder();
        String pkgVersion = ComparableVersion.class.getPackage().getImplementationVersion();
        o.append("{\n \"format\": \"maven\",\n \"reference\": ").append(q("maven-artifact " + pkgVersion)).append(",\n");
        o.append(" \"versions\": [");
        for (int i = 0; i < versions.size(); i++) o.append(i > 0 ? ", " : "").append(q(versions.get(i)));
        o.append("],\n \"valid\": \"");
        for (String v : versions) o.append('1');
        o.append("\",\n \"prerelease\": \"");
        for (String v : versions) {
            Matcher m = numeric.matcher(v);
            String base = m.find() ? m.group() : "";
            o.append(new ComparableVersion(v).compareTo(new ComparableVersion(base)) < 0 ? '1' : '0');
        }
        o.append("\",\n \"order\": [\n");
        for (int i = 0; i < versions.size(); i++) {
            ComparableVersion a = new ComparableVersion(versions.get(i));
            StringBuilder row = new StringBuilder();
            for (String w : versions) {
                int c = a.compareTo(new ComparableVersion(w));
                row.append(c < 0 ? '-' : c > 0 ? '+' : '0');
            }
            o.append("  ").append(q(row.toString())).append(i + 1 < versions.size() ? ",\n" : "\n");
        }
        o.append(" ],\n \"ranges\": [\n");
        for (int i = 0; i < ranges.size(); i++) {
            String r = ranges.get(i);
            VersionRange range = null;
            String error = null;
            try { range = VersionRange.createFromVersionSpec(r); } catch (Exception e) { error = e.getMessage(); }
            StringBuilder m = new StringBuilder();
            for (String v : versions) m.append(range != null && range.containsVersion(new DefaultArtifactVersion(v)) ? '1' : '0');
            boolean soft = range != null && range.getRecommendedVersion() != null;
            o.append("  {\"range\": ").append(q(r)).append(", \"valid\": ").append(range != null)
             .append(", \"error\": ").append(q(error)).append(", \"soft\": ").append(soft)
             .append(", \"matches\": ").append(q(m.toString())).append(", \"matches_pre\": ").append(q(m.toString()))
             .append(i + 1 < ranges.size() ? "},\n" : "}\n");
        }
        o.append(" ]\n}\n");
        System.out.print(o);
    }
}
