// Debian 12 fix for TorchSharp 0.107: libLibTorchSharp.so declares a need for GLIBCXX_3.4.32 (libstdc++ 13)
// only for `std::ios_base_library_init`, which nothing calls. Debian 12 ships libstdc++ with 3.4.30, so the
// loader refuses the library. Marking that one version requirement weak (VER_FLG_WEAK in its vernaux entry)
// lets the loader accept it. patchelf cannot set this flag, hence this small ELF edit.
// Idempotent, and a no-op where the system libstdc++ already provides the version.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>MSBuild task: patches every libLibTorchSharp.so under Directory.</summary>
public class PatchLibTorchSharp : Task
{
    [Required] public string Directory { get; set; } = "";

    public override bool Execute()
    {
        if (!System.IO.Directory.Exists(Directory)) return true;
        if (LibTorchSharpPatcher.SystemHasVersion()) return true;
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "libLibTorchSharp.so", SearchOption.AllDirectories))
        {
            var result = LibTorchSharpPatcher.Patch(file);
            if (result == "patched") Log.LogMessage(MessageImportance.High, "Marked GLIBCXX_3.4.32 weak in " + file);
        }
        return true;
    }
}
public static class LibTorchSharpPatcher
{
    const string Needed = "GLIBCXX_3.4.32";
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    static readonly string[] StdCppCandidates =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
    };

    public static bool SystemHasVersion()
    {
        foreach (var path in StdCppCandidates)
        {
            if (File.Exists(path))
            {
                var text = Encoding.ASCII.GetString(File.ReadAllBytes(path));
                return text.IndexOf(Needed + "\0", StringComparison.Ordinal) >= 0;
            }
        }
        return false;
    }

    /// <summary>Returns "patched", "already" or "absent" (no such requirement in the file).</summary>
    public static string Patch(string file)
    {
        var b = File.ReadAllBytes(file);
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[4] != 2 || b[5] != 1)
            throw new InvalidDataException(file + " is not a little-endian ELF64 file");
        ulong shoff = BitConverter.ToUInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A), shnum = BitConverter.ToUInt16(b, 0x3C);
        for (int i = 0; i < shnum; i++)
        {
            int sh = (int)shoff + i * shentsize;
            if (BitConverter.ToUInt32(b, sh + 4) != ShtGnuVerneed) continue;
            int offset = (int)BitConverter.ToUInt64(b, sh + 0x18);
            int link = (int)BitConverter.ToUInt32(b, sh + 0x28);
            int strtab = (int)BitConverter.ToUInt64(b, (int)shoff + link * shentsize + 0x18);
            int vn = offset;
            while (true)
            {
                int cnt = BitConverter.ToUInt16(b, vn + 2);
                int aux = vn + (int)BitConverter.ToUInt32(b, vn + 8);
                for (int a = 0; a < cnt; a++)
                {
                    int name = strtab + (int)BitConverter.ToUInt32(b, aux + 8);
                    int end = Array.IndexOf(b, (byte)0, name);
                    if (Encoding.ASCII.GetString(b, name, end - name) == Needed)
                    {
                        ushort flags = BitConverter.ToUInt16(b, aux + 4);
                        if ((flags & VerFlgWeak) != 0) return "already";
                        BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(b, aux + 4);
                        var tmp = file + ".patching";
                        File.WriteAllBytes(tmp, b);
                        File.Copy(tmp, file, true);
                        File.Delete(tmp);
                        return "patched";
                    }
                    aux += (int)BitConverter.ToUInt32(b, aux + 12);
                }
                uint next = BitConverter.ToUInt32(b, vn + 12);
                if (next == 0) break;
                vn += (int)next;
            }
        }
        return "absent";
    }
}
