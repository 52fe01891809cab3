using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace HaPowerShell.Tests.Architecture;

/// <summary>A method or field a method's IL names: the calling method, the member, its declaring type and that type's assembly.</summary>
internal sealed record IlReference(string FromType, string FromMethod, string TargetAssembly, string TargetType, string TargetMember)
{
    public string Target => $"{TargetType}::{TargetMember}";
    public override string ToString() => $"{FromType}.{FromMethod} -> {Target}";
}

/// <summary>
/// One method defined in a scanned assembly, with what its body names (lambdas and state machines included).
/// <see cref="IsHelper"/>: a method of a compiler-generated nested type, whose references are also credited to the
/// method that wrote the lambda or the async body (checks look at that one).
/// </summary>
internal sealed record IlMethod(string Type, string Name, bool IsPInvoke, bool IsHelper, IReadOnlyList<IlReference> References);

/// <summary>
/// Reads what an assembly's code calls, straight from its IL (System.Reflection.Metadata; nothing is loaded or run):
/// for every method body, the methods and fields its call, newobj, ldftn, ld(s)fld and similar instructions name.
/// A lambda or an async method's body lives in a compiler-generated nested type: a method that names a member of
/// such a type is credited with everything that type's methods name, so a violation cannot hide in a closure.
/// </summary>
internal sealed class IlScanner
{
    private static readonly Dictionary<short, OperandType> Operands = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value, o => o.OperandType);

    private readonly MetadataReader _md;

    public IlScanner(string path)
    {
        Path = path;
        var copy = new PEReader(ImmutableArray.Create(File.ReadAllBytes(path)));
        _md = copy.GetMetadataReader();
        AssemblyName = _md.GetString(_md.GetAssemblyDefinition().Name);
        AssemblyReferences = _md.AssemblyReferences.Select(h => _md.GetString(_md.GetAssemblyReference(h).Name)).ToList();
        Methods = ReadMethods(copy);
    }

    public string Path { get; }
    public string AssemblyName { get; }
    public IReadOnlyList<string> AssemblyReferences { get; }

    /// <summary>Every method with a body or a P/Invoke, with its references (closures and state machines folded in).</summary>
    public IReadOnlyList<IlMethod> Methods { get; }

    private List<IlMethod> ReadMethods(PEReader pe)
    {
        var direct = new Dictionary<MethodDefinitionHandle, (string Type, string Name, bool PInvoke, bool Helper, List<IlReference> Refs, HashSet<TypeDefinitionHandle> Nested)>();
        foreach (var th in _md.TypeDefinitions)
        {
            var type = _md.GetTypeDefinition(th);
            string typeName = TypeName(th);
            foreach (var mh in type.GetMethods())
            {
                var m = _md.GetMethodDefinition(mh);
                string name = _md.GetString(m.Name);
                bool pinvoke = (m.Attributes & MethodAttributes.PinvokeImpl) != 0;
                var refs = new List<IlReference>();
                var nested = new HashSet<TypeDefinitionHandle>();
                if (m.RelativeVirtualAddress != 0)
                    foreach (var h in Tokens(pe.GetMethodBody(m.RelativeVirtualAddress).GetILReader()))
                        if (Resolve(h, typeName, name, out var r, out var declaring))
                        {
                            refs.Add(r!);
                            if (declaring is { } d && IsCompilerGenerated(d) && d != th) nested.Add(d);
                        }
                direct[mh] = (typeName, name, pinvoke, IsCompilerGenerated(th), refs, nested);
            }
        }
        // Fold closures and state machines in: a method names what its compiler-generated helpers name.
        var byType = direct.GroupBy(kv => kv.Value.Type).ToDictionary(g => g.Key, g => g.Select(kv => kv.Value).ToList());
        var result = new List<IlMethod>();
        foreach (var (_, m) in direct)
        {
            var all = new List<IlReference>(m.Refs);
            var seen = new HashSet<TypeDefinitionHandle>();
            var todo = new Stack<TypeDefinitionHandle>(m.Nested);
            while (todo.Count > 0)
            {
                var t = todo.Pop();
                if (!seen.Add(t) || !byType.TryGetValue(TypeName(t), out var helpers)) continue;
                foreach (var h in helpers)
                {
                    all.AddRange(h.Refs.Select(r => r with { FromType = m.Type, FromMethod = m.Name }));
                    foreach (var n in h.Nested) todo.Push(n);
                }
            }
            result.Add(new IlMethod(m.Type, m.Name, m.PInvoke, m.Helper, all));
        }
        return result;
    }

    private bool IsCompilerGenerated(TypeDefinitionHandle t)
    {
        var td = _md.GetTypeDefinition(t);
        return td.GetDeclaringType().IsNil is false && _md.GetString(td.Name).Contains('<');
    }

    /// <summary>The metadata tokens an IL body names (method, field, type and ldtoken operands).</summary>
    private static IEnumerable<EntityHandle> Tokens(BlobReader il)
    {
        var tokens = new List<EntityHandle>();
        while (il.RemainingBytes > 0)
        {
            short code = il.ReadByte();
            if (code == 0xFE) code = unchecked((short)(0xFE00 | il.ReadByte()));
            var operand = Operands.TryGetValue(code, out var o) ? o : OperandType.InlineNone;
            switch (operand)
            {
                case OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok or OperandType.InlineType:
                    tokens.Add(MetadataTokens.EntityHandle(il.ReadInt32()));
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    il.Offset += 1;
                    break;
                case OperandType.InlineVar:
                    il.Offset += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    il.Offset += 8;
                    break;
                case OperandType.InlineSwitch:
                    int n = il.ReadInt32();
                    il.Offset += 4 * n;
                    break;
                default: // InlineI, InlineBrTarget, InlineSig, InlineString, ShortInlineR
                    il.Offset += 4;
                    break;
            }
        }
        return tokens;
    }

    private bool Resolve(EntityHandle h, string fromType, string fromMethod, out IlReference? reference, out TypeDefinitionHandle? declaring)
    {
        reference = null;
        declaring = null;
        switch (h.Kind)
        {
            case HandleKind.MethodDefinition:
            {
                var m = _md.GetMethodDefinition((MethodDefinitionHandle)h);
                declaring = m.GetDeclaringType();
                reference = new(fromType, fromMethod, AssemblyName, TypeName(declaring.Value), _md.GetString(m.Name));
                return true;
            }
            case HandleKind.FieldDefinition:
            {
                var f = _md.GetFieldDefinition((FieldDefinitionHandle)h);
                declaring = f.GetDeclaringType();
                reference = new(fromType, fromMethod, AssemblyName, TypeName(declaring.Value), _md.GetString(f.Name));
                return true;
            }
            case HandleKind.MemberReference:
            {
                var mr = _md.GetMemberReference((MemberReferenceHandle)h);
                var (asm, type, def) = Parent(mr.Parent);
                declaring = def;
                reference = new(fromType, fromMethod, asm, type, _md.GetString(mr.Name));
                return true;
            }
            case HandleKind.MethodSpecification:
                return Resolve(_md.GetMethodSpecification((MethodSpecificationHandle)h).Method, fromType, fromMethod, out reference, out declaring);
            case HandleKind.TypeReference or HandleKind.TypeDefinition or HandleKind.TypeSpecification:
            {
                var (asm, type, def) = Parent(h);
                declaring = def;
                reference = new(fromType, fromMethod, asm, type, "");
                return true;
            }
            default:
                return false;
        }
    }

    private (string Assembly, string Type, TypeDefinitionHandle? Definition) Parent(EntityHandle parent)
    {
        switch (parent.Kind)
        {
            case HandleKind.TypeDefinition:
                return (AssemblyName, TypeName((TypeDefinitionHandle)parent), (TypeDefinitionHandle)parent);
            case HandleKind.TypeReference:
                return (ReferenceAssembly((TypeReferenceHandle)parent), TypeName((TypeReferenceHandle)parent), null);
            case HandleKind.TypeSpecification:
            {
                var spec = _md.GetTypeSpecification((TypeSpecificationHandle)parent);
                var generic = spec.DecodeSignature(new GenericTypeOf(), null);
                return generic is { } g ? Parent(g) : ("", "?", null);
            }
            case HandleKind.MethodDefinition:
                return Parent(_md.GetMethodDefinition((MethodDefinitionHandle)parent).GetDeclaringType());
            default:
                return ("", "?", null);
        }
    }

    private string ReferenceAssembly(TypeReferenceHandle h)
    {
        var tr = _md.GetTypeReference(h);
        return tr.ResolutionScope.Kind switch
        {
            HandleKind.AssemblyReference => _md.GetString(_md.GetAssemblyReference((AssemblyReferenceHandle)tr.ResolutionScope).Name),
            HandleKind.TypeReference => ReferenceAssembly((TypeReferenceHandle)tr.ResolutionScope),
            _ => AssemblyName,
        };
    }

    private string TypeName(TypeDefinitionHandle h)
    {
        var t = _md.GetTypeDefinition(h);
        var outer = t.GetDeclaringType();
        string name = _md.GetString(t.Name);
        if (!outer.IsNil) return TypeName(outer) + "+" + name;
        string ns = _md.GetString(t.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    private string TypeName(TypeReferenceHandle h)
    {
        var t = _md.GetTypeReference(h);
        string name = _md.GetString(t.Name);
        if (t.ResolutionScope.Kind == HandleKind.TypeReference) return TypeName((TypeReferenceHandle)t.ResolutionScope) + "+" + name;
        string ns = _md.GetString(t.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    /// <summary>Decodes a type specification down to the generic type it instantiates (List&lt;int&gt; → List`1); null for arrays, pointers and the like.</summary>
    private sealed class GenericTypeOf : ISignatureTypeProvider<EntityHandle?, object?>
    {
        public EntityHandle? GetGenericInstantiation(EntityHandle? genericType, ImmutableArray<EntityHandle?> typeArguments) => genericType;
        public EntityHandle? GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => handle;
        public EntityHandle? GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => handle;
        public EntityHandle? GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) => null;
        public EntityHandle? GetArrayType(EntityHandle? elementType, ArrayShape shape) => null;
        public EntityHandle? GetByReferenceType(EntityHandle? elementType) => null;
        public EntityHandle? GetFunctionPointerType(MethodSignature<EntityHandle?> signature) => null;
        public EntityHandle? GetGenericMethodParameter(object? genericContext, int index) => null;
        public EntityHandle? GetGenericTypeParameter(object? genericContext, int index) => null;
        public EntityHandle? GetModifiedType(EntityHandle? modifier, EntityHandle? unmodifiedType, bool isRequired) => unmodifiedType;
        public EntityHandle? GetPinnedType(EntityHandle? elementType) => null;
        public EntityHandle? GetPointerType(EntityHandle? elementType) => null;
        public EntityHandle? GetPrimitiveType(PrimitiveTypeCode typeCode) => null;
        public EntityHandle? GetSZArrayType(EntityHandle? elementType) => null;
    }
}
